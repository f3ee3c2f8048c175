import type { Dispatcher } from 'undici';
import type { DeadlineSignal } from './attempt-deadlines';
import { BodyPrefix } from './capped-body';

/** What came back of one request: the status, its raw headers and the start of the body. */
export interface CollectedResponse {
  status: number;
  /** Name, value, name, value, ... as the parser gave them. */
  rawHeaders: Buffer[];
  /** The first `max` bytes of the body as storable text. */
  excerpt: string;
}

/** The request failed: `status` and `rawHeaders` are set when the status line had come. */
export class ExchangeError extends Error {
  constructor(
    readonly reason: unknown,
    readonly status: number | undefined,
    readonly rawHeaders: Buffer[] | undefined,
    readonly excerpt: string | undefined,
  ) {
    super('exchange failed');
  }
}

/** The body grew past the drain limit: the connection is closed instead of read to its end. */
class BodyTooLong extends Error {
  constructor() {
    super('response body over the drain limit');
  }
}

/**
 * One request's handler for undici's `dispatch`: keeps the status, the raw headers and the first
 * `max` bytes of the body, drains a small rest so the connection is reused, and closes the connection
 * on a body past the drain limit. This is the whole of what a delivery needs of a response; undici's
 * `request` would add a body stream, an async resource and parsed headers per request.
 * The signal's abort (deadline or guard) aborts the request, once it has been handed a connection.
 */
export class ResponseCollector implements Dispatcher.DispatchHandler {
  readonly result: Promise<CollectedResponse>;
  private resolve!: (r: CollectedResponse) => void;
  private reject!: (e: ExchangeError) => void;
  private status?: number;
  private rawHeaders?: Buffer[];
  private readonly kept: BodyPrefix;
  private settled = false;
  private abortRequest?: (err: Error) => void;

  constructor(
    max: number,
    private readonly signal: DeadlineSignal,
  ) {
    this.kept = new BodyPrefix(max);
    this.result = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    signal.addEventListener('abort', () => this.abortRequest?.(signal.reason ?? new Error('aborted')));
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.signal.aborted) return abort(this.signal.reason);
    this.abortRequest = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) return true; // an informational answer: the real one follows
    this.status = statusCode;
    this.rawHeaders = rawHeaders;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.kept.add(chunk)) {
      this.succeed();
      this.abortRequest?.(new BodyTooLong());
      return false;
    }
    return true;
  }

  onComplete(): void {
    this.succeed();
  }

  onError(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(new ExchangeError(err, this.status, this.rawHeaders, this.status === undefined ? undefined : this.kept.text()));
  }

  private succeed(): void {
    if (this.settled) return;
    this.settled = true;
    if (this.status === undefined) this.reject(new ExchangeError(new Error('response ended without a status'), undefined, undefined, undefined));
    else this.resolve({ status: this.status, rawHeaders: this.rawHeaders ?? [], excerpt: this.kept.text() });
  }
}

/** Raw headers as an object with lower-case names, values read as latin1, repeats as arrays (as undici's request gives them). */
export function parseRawHeaders(raw: Buffer[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toString('latin1').toLowerCase();
    const value = raw[i + 1].toString('latin1');
    const seen = out[name];
    if (seen === undefined) out[name] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else out[name] = [seen, value];
  }
  return out;
}
