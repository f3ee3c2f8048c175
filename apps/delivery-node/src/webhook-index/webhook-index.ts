import { DELIVERING_STATUSES, subscribesTo, WebhookSnapshot } from '@app/domain';

export type IndexChange = { kind: 'put'; webhook: WebhookSnapshot } | { kind: 'delete'; id: string };

/**
 * In-memory view of every webhook, fed from the KV bucket `webhooks`: lets fan-out find the
 * subscribers of an event without Postgres.
 */
export class WebhookIndex {
  private readonly byId = new Map<string, WebhookSnapshot>();
  private readonly byAccount = new Map<string, Set<string>>();
  private readonly listeners: ((c: IndexChange) => void)[] = [];

  get size(): number {
    return this.byId.size;
  }

  onChange(listener: (c: IndexChange) => void): void {
    this.listeners.push(listener);
  }

  apply(change: IndexChange): void {
    if (change.kind === 'put') {
      const w = change.webhook;
      const current = this.byId.get(w.id);
      if (current && current.version > w.version) return; // stale copy
      this.byId.set(w.id, w);
      let ids = this.byAccount.get(w.account_id);
      if (!ids) this.byAccount.set(w.account_id, (ids = new Set()));
      ids.add(w.id);
    } else {
      const current = this.byId.get(change.id);
      if (!current) return;
      this.byId.delete(change.id);
      this.byAccount.get(current.account_id)?.delete(change.id);
    }
    for (const l of this.listeners) l(change);
  }

  /** Drops every webhook whose id is not in `ids` (a resync against a full snapshot); returns how many. */
  retainOnly(ids: ReadonlySet<string>): number {
    const gone = [...this.byId.keys()].filter((id) => !ids.has(id));
    for (const id of gone) this.apply({ kind: 'delete', id });
    return gone.length;
  }

  get(id: string): WebhookSnapshot | undefined {
    return this.byId.get(id);
  }

  /** A webhook that should receive deliveries now. */
  deliverable(id: string): WebhookSnapshot | undefined {
    const w = this.byId.get(id);
    return w && DELIVERING_STATUSES.includes(w.status) ? w : undefined;
  }

  /** The account's webhooks that take this event type and are live. */
  subscribers(accountId: string, type: string): WebhookSnapshot[] {
    const out: WebhookSnapshot[] = [];
    for (const id of this.byAccount.get(accountId) ?? []) {
      const w = this.byId.get(id)!;
      if (DELIVERING_STATUSES.includes(w.status) && subscribesTo(w.event_types, type)) out.push(w);
    }
    return out;
  }
}
