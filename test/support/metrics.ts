/** A counter's or gauge's value in a Prometheus text page (0 when absent). */
export function counter(page: string, name: string): number {
  const line = page.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}
