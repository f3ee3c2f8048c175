import { DELIVERING_STATUSES, subscribesTo, WebhookSnapshot } from '@app/domain';

export type IndexChange = { kind: 'put'; webhook: WebhookSnapshot } | { kind: 'delete'; id: string };

/**
 * What the index keeps of a webhook: what matching and delivery need (secrets still sealed; they
 * are opened at send time). Not the parsed snapshot itself: a node holds 100,000s of these, so
 * every field and object per webhook counts.
 */
export type IndexedWebhook = Readonly<Omit<WebhookSnapshot, 'updated_at' | 'event_types'>> & { readonly event_types: readonly string[] };

/**
 * In-memory view of every webhook, fed from the KV bucket `webhooks`: lets fan-out find the
 * subscribers of an event without Postgres.
 */
export class WebhookIndex {
  private readonly byId = new Map<string, IndexedWebhook>();
  /** An account's webhooks in the order they were first seen (at most MAX_WEBHOOKS_PER_ACCOUNT). */
  private readonly byAccount = new Map<string, IndexedWebhook[]>();
  /**
   * One shared copy of each distinct event-type list (most webhooks subscribe to the same few).
   * Grows only with lists never seen before, which are few and small.
   */
  private readonly eventTypeLists = new Map<string, readonly string[]>();
  private readonly listeners: ((c: IndexChange) => void)[] = [];

  get size(): number {
    return this.byId.size;
  }

  onChange(listener: (c: IndexChange) => void): void {
    this.listeners.push(listener);
  }

  apply(change: IndexChange): void {
    if (change.kind === 'put') {
      const current = this.byId.get(change.webhook.id);
      if (current && current.version > change.webhook.version) return; // stale copy
      if (current && current.account_id !== change.webhook.account_id) this.unlink(current);
      const w = this.compact(change.webhook, current);
      this.byId.set(w.id, w);
      const group = this.byAccount.get(w.account_id);
      const at = group?.findIndex((x) => x.id === w.id) ?? -1;
      if (!group) this.byAccount.set(w.account_id, [w]);
      else if (at >= 0) group[at] = w;
      else group.push(w);
    } else {
      const current = this.byId.get(change.id);
      if (!current) return;
      this.byId.delete(change.id);
      this.unlink(current);
    }
    for (const l of this.listeners) l(change);
  }

  /** Drops every webhook whose id is not in `ids` (a resync against a full snapshot); returns how many. */
  retainOnly(ids: ReadonlySet<string>): number {
    const gone = [...this.byId.keys()].filter((id) => !ids.has(id));
    for (const id of gone) this.apply({ kind: 'delete', id });
    return gone.length;
  }

  get(id: string): IndexedWebhook | undefined {
    return this.byId.get(id);
  }

  /** A webhook that should receive deliveries now. */
  deliverable(id: string): IndexedWebhook | undefined {
    const w = this.byId.get(id);
    return w && DELIVERING_STATUSES.includes(w.status) ? w : undefined;
  }

  /** The account's webhooks that take this event type and are live. */
  subscribers(accountId: string, type: string): IndexedWebhook[] {
    const out: IndexedWebhook[] = [];
    for (const w of this.byAccount.get(accountId) ?? []) {
      if (DELIVERING_STATUSES.includes(w.status) && subscribesTo(w.event_types, type)) out.push(w);
    }
    return out;
  }

  private unlink(w: IndexedWebhook): void {
    const group = this.byAccount.get(w.account_id);
    if (!group) return;
    const rest = group.filter((x) => x.id !== w.id);
    if (rest.length) this.byAccount.set(w.account_id, rest);
    else this.byAccount.delete(w.account_id);
  }

  /**
   * A fresh record with only the fields the node uses, and the strings many webhooks share (account
   * id, event-type list, API key header) taken from records already held, so the parsed snapshot
   * can be collected as a whole.
   */
  private compact(s: WebhookSnapshot, current: IndexedWebhook | undefined): IndexedWebhook {
    const sibling = this.byAccount.get(s.account_id)?.[0];
    return {
      id: current?.id ?? s.id, // the Map keeps its first key string: share it
      account_id: sibling?.account_id ?? s.account_id,
      url: s.url,
      auth_type: s.auth_type,
      api_key: s.api_key && { header: sibling?.api_key?.header === s.api_key.header ? sibling.api_key.header : s.api_key.header, key_enc: s.api_key.key_enc },
      oauth: s.oauth && { client_url: s.oauth.client_url, client_id: s.oauth.client_id, client_secret_enc: s.oauth.client_secret_enc },
      event_types: this.eventTypes(s.event_types),
      rate_limit: s.rate_limit,
      status: s.status,
      signing_secret_enc: s.signing_secret_enc,
      version: s.version,
    };
  }

  private eventTypes(list: readonly string[]): readonly string[] {
    const key = list.join('\n'); // event types never contain a newline
    let shared = this.eventTypeLists.get(key);
    if (!shared) this.eventTypeLists.set(key, (shared = Object.freeze([...list])));
    return shared;
  }
}
