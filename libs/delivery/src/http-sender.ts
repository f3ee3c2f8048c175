import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { createSecureContext, rootCertificates } from 'node:tls';
import { Agent, buildConnector, request, type Dispatcher } from 'undici';
import { parseRetryAfter } from './backoff';
import { SsrfBlockedError, assertHostAllowed, assertUrlAllowed, guardedLookup } from './ssrf-guard';

export interface HttpSenderOptions {
  /** Development and tests only: allow loopback, RFC 1918 and other non-public targets, and plain http. */
  allowPrivateNetworks: boolean;
  /** Extra trusted CA (PEM), on top of Node's root store. */
  ca?: string | Buffer;
  /** TCP + TLS handshake. Default 5000. */
  connectTimeoutMs?: number;
  /** Whole request, body included. Default 10000. */
  timeoutMs?: number;
  /** Response bytes kept as the excerpt. Default 4096. */
  maxResponseBytes?: number;
  /** Keep-alive connections per origin. Default 16. */
  connectionsPerOrigin?: number;
}

export interface SendRequest {
  url: string;
  method?: 'POST';
  headers: Record<string, string>;
  body: string;
}

export interface SendResult {
  /** A 2xx status. Redirects are not followed, so a 3xx is a failure. */
  ok: boolean;
  status?: number;
  latencyMs: number;
  /** Why there is no usable status: 'timeout', 'connect ECONNREFUSED', 'ssrf blocked: ...', 'tls ...'. */
  error?: string;
  responseExcerpt?: string;
  retryAfterMs?: number;
  headers?: Record<string, string>;
}

// Bodies up to this size are read to the end so the connection can be reused; bigger ones close it.
const DRAIN_LIMIT_BYTES = 64 * 1024;

/** Posts webhook requests over one pooled, keep-alive undici Agent; `send` never throws. */
export class HttpSender {
  /** Shared with the OAuth token provider so token requests get the same pooling, CA and SSRF checks. */
  readonly dispatcher: Dispatcher;
  readonly allowPrivateNetworks: boolean;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;

  constructor(opts: HttpSenderOptions) {
    this.allowPrivateNetworks = opts.allowPrivateNetworks;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.maxResponseBytes = opts.maxResponseBytes ?? 4096;
    // One secure context for every connection: building one from the CA list per handshake is costly.
    const secureContext = opts.ca ? createSecureContext({ ca: [...rootCertificates, opts.ca.toString()] }) : undefined;
    const base = buildConnector({
      ...(secureContext ? { secureContext } : {}),
      lookup: guardedLookup(this.allowPrivateNetworks),
      timeout: opts.connectTimeoutMs ?? 5_000,
    });
    // net.connect skips `lookup` for IP literals, so those are checked here, for every user of the dispatcher.
    const connect: buildConnector.connector = (options, callback) => {
      try {
        assertHostAllowed(options.hostname, this.allowPrivateNetworks);
      } catch (err) {
        return callback(err as Error, null);
      }
      base(options, callback);
    };
    this.dispatcher = new Agent({
      connect,
      connections: opts.connectionsPerOrigin ?? 16,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
  }

  async send(req: SendRequest): Promise<SendResult> {
    const started = performance.now();
    const latencyMs = () => Math.round(performance.now() - started);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error('timeout')), this.timeoutMs);
    try {
      const url = new URL(req.url);
      assertUrlAllowed(url, this.allowPrivateNetworks);
      const res = await request(url, {
        dispatcher: this.dispatcher,
        method: req.method ?? 'POST',
        headers: req.headers,
        body: req.body,
        signal: controller.signal,
      });
      const responseExcerpt = await readCapped(res.body, this.maxResponseBytes);
      const headers = flattenHeaders(res.headers);
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      const retryAfterMs = ok ? undefined : parseRetryAfter(headers['retry-after']);
      return {
        ok,
        status: res.statusCode,
        latencyMs: latencyMs(),
        responseExcerpt,
        headers,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      };
    } catch (err) {
      return { ok: false, latencyMs: latencyMs(), error: controller.signal.aborted ? 'timeout' : describeError(err) };
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}

/** The first `max` bytes as UTF-8 (no half characters); the rest is drained if small, else the connection dropped. */
export async function readCapped(body: Dispatcher.ResponseData['body'], max: number): Promise<string> {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (keptBytes < max) {
      const part = chunk.subarray(0, max - keptBytes);
      kept.push(part);
      keptBytes += part.length;
    }
    if (total > Math.max(DRAIN_LIMIT_BYTES, max)) break; // leaving the loop destroys the body, and undici closes the socket
  }
  return new StringDecoder('utf8').write(Buffer.concat(kept));
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** A short, stable description of a transport failure for the attempt log. */
export function describeError(err: unknown): string {
  if (err instanceof SsrfBlockedError) return err.message;
  let e = err as { code?: string; syscall?: string; message?: string; errors?: unknown[] } | undefined;
  // Node's happy-eyeballs connect reports an AggregateError of the per-address failures.
  if (e && !e.code && Array.isArray(e.errors) && e.errors.length) e = e.errors[0] as typeof e;
  const code = e?.code ?? '';
  const message = e?.message ?? String(err);
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'connect timeout';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'timeout';
  if (code === 'UND_ERR_SOCKET') return 'connection closed by peer';
  if (code === 'ERR_INVALID_URL') return 'invalid url';
  if (/CERT|TLS|SSL|SIGNATURE|ISSUER/.test(code)) return `tls ${code}: ${message}`;
  if (/^E[A-Z_]+$/.test(code)) return `${e?.syscall ?? 'socket'} ${code}`;
  return message;
}
