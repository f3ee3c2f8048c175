import { performance } from 'node:perf_hooks';
import { createSecureContext, rootCertificates } from 'node:tls';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { storableText } from '@app/domain';
import { AttemptDeadlines, StoppedError } from './attempt-deadlines';
import { parseRetryAfter } from './backoff';
import { ExchangeError, parseRawHeaders, ResponseCollector } from './response-collector';
import { SsrfBlockedError, assertHostAllowed, assertUrlAllowed, guardedLookup } from './ssrf-guard';

export interface HttpSenderOptions {
  /** Development and tests only: allow loopback, RFC 1918 and other non-public targets, and plain http. */
  allowPrivateNetworks: boolean;
  /** Extra trusted CA (PEM), on top of Node's root store. */
  ca?: string | Buffer;
  /** TCP + TLS handshake. Default 5000. */
  connectTimeoutMs?: number;
  /** Whole attempt: connect, response headers and body together. Default 10000. */
  timeoutMs?: number;
  /** Response bytes kept as the excerpt. Default 4096. */
  maxResponseBytes?: number;
  /**
   * Connections per origin in each pool (the shared one and every poolKey's own). Default: no cap, so
   * a webhook whose endpoint hangs holds only its own requests in flight (its lane bounds them).
   */
  connectionsPerOrigin?: number;
  /** A poolKey's pool unused for this long is closed. Default 60000. */
  poolIdleMs?: number;
}

export interface SendRequest {
  url: string;
  method?: 'POST';
  /** An object, or a flat [name, value, name, value, ...] list (cheaper to build per request). */
  headers: Record<string, string> | string[];
  body: string;
  /**
   * Sends over this key's own connection pool, e.g. the account id: its webhooks to one origin reuse
   * each other's connections, and nothing another key's endpoints do to a connection (answer, then
   * hang it, or send stray bytes) reaches this key's requests. Without it, the shared dispatcher.
   */
  poolKey?: string;
  /**
   * Checked about every 100 ms while the request is in flight: once it returns false the request is
   * aborted (its connection closed, so nothing more of it reaches the server) and the result says
   * `stopped`. A node uses it to stop a send the moment it may no longer deliver for the webhook.
   */
  mayContinue?: () => boolean;
}

export interface SendResult {
  /** A 2xx status. Redirects are not followed, so a 3xx is a failure. */
  ok: boolean;
  status?: number;
  /** Sub-millisecond (for the latency histogram); whoever stores it in an integer column rounds it. */
  latencyMs: number;
  /**
   * Why the attempt failed, for people reading the attempt log ('timeout waiting for response
   * headers (10 s)', 'connection reset by peer', 'tls certificate rejected: ...', 'redirect not
   * followed (HTTP 301 to ...)', 'response is not HTTP (...)'). Unset for a plain non-2xx status
   * (the status says it all) and for every success. Always fit for a PostgreSQL text column.
   */
  error?: string;
  /** The start of the response body as text (no NUL, no lone surrogates). */
  responseExcerpt?: string;
  retryAfterMs?: number;
  /** Response headers, values made storable. */
  headers?: Record<string, string>;
  /** Aborted because `mayContinue` turned false before a status line arrived. */
  stopped?: boolean;
}

/** Longest error text returned; header values surfaced are cut at HEADER_VALUE_CHARS. */
const ERROR_CHARS = 500;
const HEADER_VALUE_CHARS = 1000;

/** Parsed URLs kept at most (one per webhook URL in use); the cache starts over beyond that. */
const MAX_CACHED_TARGETS = 100_000;

interface Target {
  origin: string;
  path: string;
}

interface KeyedPool {
  agent: Agent;
  inFlight: number;
  lastUsedAt: number;
}

/** Where a send was when it failed: the same transport error reads differently before and after the status line. */
type Phase = 'request' | 'body';

/**
 * Posts webhook requests over pooled, keep-alive undici Agents: one shared, and one per `poolKey`
 * (closed after `poolIdleMs` unused, or by `forget`), with no connection cap unless asked. Every pool connects through the same
 * connector: SSRF checks, trusted CAs and connect timeout. `send` never throws, takes at most about
 * `timeoutMs` whatever the server does, and returns only texts PostgreSQL accepts.
 */
export class HttpSender {
  /** Shared with the OAuth token provider so token requests get the same pooling, CA and SSRF checks. */
  readonly dispatcher: Dispatcher;
  readonly allowPrivateNetworks: boolean;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly poolIdleMs: number;
  private readonly agentOptions: Agent.Options;
  private readonly pools = new Map<string, KeyedPool>();
  private readonly targets = new Map<string, Target>();
  private readonly deadlines: AttemptDeadlines;
  private sweeper?: NodeJS.Timeout;
  private closed = false;

  constructor(opts: HttpSenderOptions) {
    this.allowPrivateNetworks = opts.allowPrivateNetworks;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.maxResponseBytes = opts.maxResponseBytes ?? 4096;
    this.poolIdleMs = opts.poolIdleMs ?? 60_000;
    this.deadlines = new AttemptDeadlines(this.timeoutMs);
    // One secure context for every connection: building one from the CA list per handshake is costly.
    const secureContext = opts.ca ? createSecureContext({ ca: [...rootCertificates, opts.ca.toString()] }) : undefined;
    const base = buildConnector({
      ...(secureContext ? { secureContext } : {}),
      lookup: guardedLookup(this.allowPrivateNetworks),
      timeout: opts.connectTimeoutMs ?? 5_000,
    });
    // net.connect skips `lookup` for IP literals, so those are checked here, for every user of every pool.
    const connect: buildConnector.connector = (options, callback) => {
      try {
        assertHostAllowed(options.hostname, this.allowPrivateNetworks);
      } catch (err) {
        return callback(err as Error, null);
      }
      base(options, callback);
    };
    this.agentOptions = {
      connect,
      connections: opts.connectionsPerOrigin ?? null,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    };
    this.dispatcher = new Agent(this.agentOptions);
  }

  /** Pools held for poolKeys right now. */
  get poolCount(): number {
    return this.pools.size;
  }

  async send(req: SendRequest): Promise<SendResult> {
    const started = performance.now();
    const signal = this.deadlines.start(req.mayContinue);
    const pool = req.poolKey !== undefined ? this.acquire(req.poolKey) : undefined;
    try {
      const target = this.target(req.url);
      const collector = new ResponseCollector(this.maxResponseBytes, signal);
      (pool?.agent ?? this.dispatcher).dispatch({ origin: target.origin, path: target.path, method: req.method ?? 'POST', headers: req.headers, body: req.body }, collector);
      const res = await collector.result;
      return this.result(res.status, res.rawHeaders, res.excerpt, performance.now() - started);
    } catch (thrown) {
      const latencyMs = performance.now() - started;
      const { reason: err, status, rawHeaders, excerpt } = thrown instanceof ExchangeError ? thrown : new ExchangeError(thrown, undefined, undefined, undefined);
      if (status === undefined && signal.reason instanceof StoppedError)
        return { ok: false, latencyMs, stopped: true, error: 'stopped: this node may no longer deliver for the webhook' };
      const phase: Phase = status === undefined ? 'request' : 'body';
      const why =
        signal.reason instanceof StoppedError
          ? 'stopped reading the response body: this node may no longer deliver for the webhook'
          : storableText(describeFailure(err, phase, signal.aborted, this.timeoutMs), ERROR_CHARS);
      if (status === undefined) return { ok: false, latencyMs, error: why };
      // The status line came: it decides; the body only failed to arrive in full.
      const res = this.result(status, rawHeaders ?? [], excerpt, latencyMs);
      return res.ok ? res : { ...res, error: storableText(`${res.error ?? `HTTP ${status}`}, then ${why}`, ERROR_CHARS) };
    } finally {
      this.deadlines.end(signal);
      if (pool) this.release(pool);
    }
  }

  /** Origin and path of a URL, parsed and SSRF-checked once per distinct URL (webhook URLs repeat). */
  private target(url: string): Target {
    let t = this.targets.get(url);
    if (!t) {
      const parsed = new URL(url);
      assertUrlAllowed(parsed, this.allowPrivateNetworks);
      t = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
      if (this.targets.size >= MAX_CACHED_TARGETS) this.targets.clear();
      this.targets.set(url, t);
    }
    return t;
  }

  private result(status: number, raw: Buffer[], responseExcerpt: string | undefined, latencyMs: number): SendResult {
    const ok = status >= 200 && status < 300;
    if (ok) {
      // Nobody on the delivery path reads a success's headers: flattened only when asked for.
      return {
        ok,
        status,
        latencyMs,
        responseExcerpt,
        get headers() {
          return flattenHeaders(parseRawHeaders(raw));
        },
      };
    }
    const headers = flattenHeaders(parseRawHeaders(raw));
    const retryAfterMs = parseRetryAfter(headers['retry-after']);
    return {
      ok,
      status,
      latencyMs,
      responseExcerpt,
      headers,
      ...statusError(status, headers),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }

  /** Closes a poolKey's pool (a deleted webhook); requests in flight on it still finish. */
  forget(poolKey: string): void {
    const pool = this.pools.get(poolKey);
    if (!pool) return;
    this.pools.delete(poolKey);
    void pool.agent.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.deadlines.close();
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    const agents = [...this.pools.values()].map((p) => p.agent);
    this.pools.clear();
    await Promise.all([this.dispatcher.close(), ...agents.map((a) => a.close())]);
  }

  private acquire(key: string): KeyedPool {
    let pool = this.pools.get(key);
    if (!pool) {
      pool = { agent: new Agent(this.agentOptions), inFlight: 0, lastUsedAt: Date.now() };
      // After close() a send still works, on a pool of its own that is not kept.
      if (!this.closed) this.pools.set(key, pool);
      this.startSweeper();
    }
    pool.inFlight++;
    return pool;
  }

  private release(pool: KeyedPool): void {
    pool.inFlight--;
    pool.lastUsedAt = Date.now();
    if (this.closed && pool.inFlight === 0) void pool.agent.close().catch(() => undefined);
  }

  private startSweeper(): void {
    if (this.sweeper || this.closed) return;
    this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(this.poolIdleMs / 2, 30_000)));
    this.sweeper.unref();
  }

  /** Closes pools idle for poolIdleMs; stops itself when none are left. */
  private sweep(): void {
    const now = Date.now();
    for (const [key, pool] of this.pools) {
      if (pool.inFlight === 0 && now - pool.lastUsedAt >= this.poolIdleMs) this.forget(key);
    }
    if (!this.pools.size) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}

/** What a 3xx or an impossible status means; nothing for an ordinary failure status. */
function statusError(status: number, headers: Record<string, string>): { error?: string } {
  if (status >= 300 && status < 400) {
    const to = headers.location ? ` to ${headers.location.slice(0, 300)}` : '';
    return { error: storableText(`redirect not followed (HTTP ${status}${to})`, ERROR_CHARS) };
  }
  if (status < 100 || status > 599) return { error: `HTTP ${status} is not a valid status code` };
  return {};
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined) out[storableText(k, 200)] = storableText(Array.isArray(v) ? v.join(', ') : v, HEADER_VALUE_CHARS);
  }
  return out;
}

/** A transport failure, worded for where it happened: waiting for the response, or reading its body. */
function describeFailure(err: unknown, phase: Phase, aborted: boolean, timeoutMs: number): string {
  const code = errorCode(err);
  const seconds = `${Math.round(timeoutMs / 100) / 10} s`;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return describeError(err);
  if (aborted || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return phase === 'body' ? `timeout reading response body (${seconds})` : `timeout waiting for response headers (${seconds})`;
  }
  const text = describeError(err);
  if (phase !== 'body') return text;
  if (code === 'UND_ERR_SOCKET') return 'connection closed by peer mid-body';
  if (code === 'ECONNRESET') return 'connection reset by peer mid-body';
  if (text.startsWith('response is not HTTP')) return text.replace('response is not HTTP', 'malformed response body');
  return `${text} (reading response body)`;
}

function errorCode(err: unknown): string {
  let e = err as { code?: string; errors?: unknown[] } | undefined;
  if (e && !e.code && Array.isArray(e.errors) && e.errors.length) e = e.errors[0] as typeof e;
  return typeof e?.code === 'string' ? e.code : '';
}

/** TLS verification failures (Node's X509 codes and its own). */
const CERT_CODES = /CERT|ISSUER|SELF_SIGNED|LEAF_SIGNATURE|ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_VERIFY|CRL/;

/** A short, stable, storable description of a transport failure for the attempt log. */
export function describeError(err: unknown): string {
  return storableText(describe(err), ERROR_CHARS);
}

function describe(err: unknown): string {
  if (err instanceof SsrfBlockedError) return err.message;
  let e = err as { code?: string; syscall?: string; message?: string; name?: string; errors?: unknown[] } | undefined;
  // Node's happy-eyeballs connect reports an AggregateError of the per-address failures.
  if (e && !e.code && Array.isArray(e.errors) && e.errors.length) e = e.errors[0] as typeof e;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect timeout (no TCP/TLS connection established in time)';
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'timeout waiting for response headers';
    case 'UND_ERR_BODY_TIMEOUT':
      return 'timeout reading response body';
    case 'UND_ERR_SOCKET':
      if (message === 'bad upgrade') return 'response is not HTTP (unrequested protocol upgrade, HTTP 101)';
      if (message === 'bad response') return 'response is not HTTP (an unrequested 100 Continue, or bytes before any request)';
      return 'connection closed by peer before a complete response';
    case 'UND_ERR_HEADERS_OVERFLOW':
      return 'response headers too large';
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return 'response body length does not match its content-length';
    case 'UND_ERR_RES_EXCEEDED_MAX_SIZE':
      return 'response body too large';
    case 'ERR_INVALID_URL':
      return 'invalid url';
    case 'ECONNRESET':
      return 'connection reset by peer';
    case 'ECONNREFUSED':
      return 'connection refused (connect ECONNREFUSED)';
    case 'EPIPE':
      return 'connection closed by peer while sending the request (EPIPE)';
    case 'ERR_ASSERTION':
      // undici asserts on some impossible responses (a status like 000) instead of a parser error.
      return 'response is not HTTP (rejected by the HTTP client)';
  }
  if (e?.name === 'HTTPParserError' || code.startsWith('HPE_')) {
    const detail = /\(([^)]*)\)\s*$/.exec(message)?.[1] ?? message;
    return `response is not HTTP (${detail})`;
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return `tls handshake failed: the server does not speak TLS (${code})`;
  }
  if (CERT_CODES.test(code)) return `tls certificate rejected: ${message.split('\n')[0]} (${code})`;
  if (code.startsWith('ERR_SSL_')) return `tls handshake failed: ${code.slice(8).toLowerCase().replace(/_/g, ' ')} (${code})`;
  if (/TLS|SSL/.test(code)) return `tls ${code}: ${message.split('\n')[0]}`;
  if (/^E[A-Z_]+$/.test(code)) return `${e?.syscall ?? 'socket'} ${code}`;
  return message.split('\n')[0] || 'request failed';
}
