import { createInbox, headers as natsHeaders, Msg, NatsConnection, NatsError, Subscription } from 'nats';

export interface StreamMessage {
  subject: string;
  data: string | Uint8Array;
  /** `Nats-Msg-Id`: the stream stores a message with an id it has seen once. */
  msgId: string;
}

/** Why the stream did not store a message, or null when it did. */
export function storeError(msg: Msg): Error | null {
  const h = msg.headers;
  if (h && h.code >= 300) return new Error(`${h.code} ${h.description || 'no stream answered'}`); // e.g. 503: no stream listens
  let ack: { stream?: string; error?: { code?: number; description?: string } };
  try {
    ack = msg.json();
  } catch {
    return new Error('the stream answered with something that is not an acknowledgement');
  }
  if (ack?.error) return new Error(`stream refused the message: ${ack.error.description ?? ack.error.code}`);
  return ack?.stream ? null : new Error('the stream answered with something that is not an acknowledgement');
}

/**
 * Publishes to JetStream pipelined, with what js.publish spends per message left out: no timer, no
 * promise chain and no Error object per publish (nats.js builds a cancellation error for every
 * request, even a successful one). Every message carries a reply subject under one inbox this
 * publisher listens on; one timer bounds the whole batch.
 */
export class TaskPublisher {
  private readonly prefix = createInbox();
  private sub?: Subscription;
  private readonly waiting = new Map<string, (err: Error | null) => void>();
  private next = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs = 10_000,
  ) {}

  /** Publishes every message; resolves, index-aligned, to null (stored) or why it was not. Never rejects. */
  publishAll(messages: StreamMessage[]): Promise<(Error | null)[]> {
    const results: (Error | null)[] = new Array(messages.length).fill(null);
    if (!messages.length) return Promise.resolve(results);
    this.listen();
    return new Promise((resolve) => {
      const tokens: string[] = new Array(messages.length);
      const answered: boolean[] = new Array(messages.length).fill(false);
      let left = messages.length;
      const finish = () => {
        clearTimeout(timer);
        for (const t of tokens) if (t !== undefined) this.waiting.delete(t);
        resolve(results);
      };
      const timer = setTimeout(() => {
        answered.forEach((done, i) => {
          if (!done) results[i] = new Error(`no acknowledgement from the stream within ${this.timeoutMs / 1000} s`);
        });
        finish();
      }, this.timeoutMs);
      const settle = (i: number, err: Error | null) => {
        if (answered[i]) return;
        answered[i] = true;
        results[i] = err;
        if (--left === 0) finish();
      };
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i];
        const token = String(this.next++);
        tokens[i] = token;
        this.waiting.set(token, (err) => settle(i, err));
        const h = natsHeaders();
        h.set('Nats-Msg-Id', m.msgId);
        try {
          this.nc.publish(m.subject, m.data, { reply: `${this.prefix}.${token}`, headers: h });
        } catch (err) {
          settle(i, err as Error);
        }
      }
    });
  }

  private listen(): void {
    if (this.sub && !this.sub.isClosed()) return;
    this.sub = this.nc.subscribe(`${this.prefix}.*`, {
      callback: (err: NatsError | null, msg: Msg) => {
        if (err) return; // a subscription error ends it; the next batch subscribes again, and this one times out
        const token = msg.subject.slice(this.prefix.length + 1);
        const done = this.waiting.get(token);
        if (!done) return;
        this.waiting.delete(token);
        done(storeError(msg));
      },
    });
  }

  close(): void {
    this.sub?.unsubscribe();
  }
}
