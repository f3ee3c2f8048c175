/** Partitions (or other numbers) for a log line: all of them up to `max`, else the first `max` and the count. */
export function listForLog(items: readonly number[], max = 20): string {
  return items.length > max ? `${items.slice(0, max).join(',')},... (${items.length})` : items.join(',');
}
