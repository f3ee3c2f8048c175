/**
 * What the network-fault suite asserts, as pure functions over what the consumer saw and what the
 * attempt log says (unit-tested in netns-analysis.spec.ts).
 */

/** One request for one webhook, by one node, at one instant (ms since the epoch). */
export interface Send {
  webhook: string;
  node: string;
  at: number;
}

/**
 * A double send: for one webhook, a request by one node and the next request (in time) by another
 * node less than `windowMs` apart. With a single owner at a time, a handover leaves a gap of at
 * least the handover gap (1.3 s after a release, several seconds after an expired lease), so two
 * nodes' requests for one webhook never fall within the same one-second rate-limit window; two
 * owners at once interleave (A B A B ...), and every switch between them counts.
 */
export interface DoubleSend {
  webhook: string;
  first: { node: string; at: number };
  then: { node: string; at: number };
}

export function doubleSends(sends: Send[], windowMs = 1000): DoubleSend[] {
  const byWebhook = new Map<string, Send[]>();
  for (const s of sends) byWebhook.set(s.webhook, [...(byWebhook.get(s.webhook) ?? []), s]);
  const out: DoubleSend[] = [];
  for (const [webhook, list] of byWebhook) {
    list.sort((a, b) => a.at - b.at);
    for (let i = 1; i < list.length; i++) {
      const [a, b] = [list[i - 1], list[i]];
      if (a.node !== b.node && b.at - a.at < windowMs) out.push({ webhook, first: { node: a.node, at: a.at }, then: { node: b.node, at: b.at } });
    }
  }
  return out;
}

/** Most requests in any one-second window [t, t + 1000), and where that window starts. */
export function worstWindow(times: number[]): { count: number; at: number } {
  const t = [...times].sort((a, b) => a - b);
  let worst = { count: 0, at: 0 };
  for (let i = 0, j = 0; i < t.length; i++) {
    while (j < t.length && t[j] - t[i] < 1000) j++;
    if (j - i > worst.count) worst = { count: j - i, at: t[i] };
  }
  return worst;
}

/**
 * How long the webhooks that `from` nodes were sending for went without a request after `since`:
 * for each webhook whose last request before `since` came from one of them, the time from `since`
 * to its first later request by any other node. The failover time is the largest (undefined when
 * no such webhook was served by another node yet).
 */
export function failoverMs(sends: Send[], from: string[], since: number): number | undefined {
  const byWebhook = new Map<string, Send[]>();
  for (const s of sends) byWebhook.set(s.webhook, [...(byWebhook.get(s.webhook) ?? []), s]);
  let worst: number | undefined;
  for (const list of byWebhook.values()) {
    list.sort((a, b) => a.at - b.at);
    const before = list.filter((s) => s.at < since).pop();
    if (!before || !from.includes(before.node)) continue;
    const next = list.find((s) => s.at >= since && !from.includes(s.node));
    if (!next) return undefined;
    worst = Math.max(worst ?? 0, next.at - since);
  }
  return worst;
}

/** The longest time any webhook went without a request within [from, to] (its requests inside, plus the edges). */
export function longestSilenceMs(sends: Send[], from: number, to: number): number {
  const byWebhook = new Map<string, number[]>();
  for (const s of sends) if (s.at >= from && s.at <= to) byWebhook.set(s.webhook, [...(byWebhook.get(s.webhook) ?? []), s.at]);
  let worst = 0;
  for (const times of byWebhook.values()) {
    const t = [from, ...times.sort((a, b) => a - b), to];
    for (let i = 1; i < t.length; i++) worst = Math.max(worst, t[i] - t[i - 1]);
  }
  return worst;
}
