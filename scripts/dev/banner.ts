/** What `npm start` prints once the services answer: where everything is and how to get a token. */
export interface BannerInput {
  configPort: number;
  approvalPort: number;
  nodePorts: number[];
  natsUrl: string;
  natsStartedHere?: string;
  notReady: string[];
}

export function banner(b: BannerInput): string {
  const c = `http://127.0.0.1:${b.configPort}`;
  const rows: [string, string][] = [
    ['dashboard', `${c}/`],
    ['config API', `${c}/v2/...`],
    ['API docs', `${c}/docs (OpenAPI JSON at /docs/openapi.json)`],
    ['approval API', `http://127.0.0.1:${b.approvalPort}/v2/...`],
    ...b.nodePorts.map((p, i): [string, string] => [`delivery node ${i + 1}`, `http://127.0.0.1:${p}/health, /metrics`]),
    ['NATS', b.natsStartedHere ? `${b.natsUrl} (started here, data in ${b.natsStartedHere})` : b.natsUrl],
  ];
  const lines = [
    b.notReady.length ? `[start] running; not ready yet: ${b.notReady.join(', ')} (see their log lines)` : '[start] ready',
    ...rows.map(([k, v]) => `  ${k.padEnd(16)} ${v}`),
    '  a token          npm run admin -- account:create --name acme',
    '                   npm run admin -- token:create --account <account_id> --user alice --roles developer,approver,entity_manager',
    '                   then sign in to the dashboard with it, or send it as "Authorization: Bearer <token>"',
    '  a demo           npm run demo (in another terminal; see README "The demo")',
    '  stop             Ctrl-C',
  ];
  return lines.join('\n');
}

/** Polls each URL until it answers 200 or the deadline passes; returns the names that never did. */
export async function waitReady(targets: { name: string; url: string }[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Map(targets.map((t) => [t.name, t.url]));
  while (pending.size && Date.now() < deadline) {
    for (const [name, url] of pending) {
      const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) pending.delete(name);
    }
    if (pending.size) await new Promise((r) => setTimeout(r, 250));
  }
  return [...pending.keys()];
}
