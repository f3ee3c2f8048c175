import { createHash } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import { storableText } from '@app/domain';
import { readCapped } from './capped-body';
import { HttpSender, describeError } from './http-sender';
import { assertUrlAllowed } from './ssrf-guard';

export interface OAuthCredentials {
  client_url: string;
  client_id: string;
  client_secret: string;
}

/** How the client authenticates to the token endpoint (RFC 6749 2.3.1). */
export type ClientAuthMethod = 'both' | 'basic' | 'post';
const METHODS: readonly ClientAuthMethod[] = ['both', 'basic', 'post'];

export interface OAuthTokenProviderOptions {
  /** Per token request. Default 10000. */
  timeoutMs?: number;
  /** Refresh this long before expiry. Default: min(30 s, 10% of expires_in). */
  refreshMarginMs?: number;
  /** Only needed with a bare Dispatcher; an HttpSender brings its own setting. Default false. */
  allowPrivateNetworks?: boolean;
  /** Clock, for tests. */
  now?: () => number;
}

export class TokenRequestError extends Error {
  readonly code = 'ETOKENREQUEST';
  constructor(
    message: string,
    readonly status?: number,
    readonly oauthError?: string,
  ) {
    // The message quotes the token server (its `error` fields): keep it fit for the attempt log.
    super(storableText(message, 1000));
    this.name = 'TokenRequestError';
  }
}

interface CacheEntry {
  fingerprint: string; // of url, id and secret: changed credentials never reuse a token or a learned method
  token?: string;
  expiresAt: number;
  method?: ClientAuthMethod;
  inflight?: Promise<string>;
}

const DEFAULT_EXPIRES_IN_S = 3600;
const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;

/**
 * OAuth2 client-credentials tokens per webhook, as API.md describes: both client-authentication
 * methods at first, falling back to Basic alone then body alone on a 400/401, remembering what worked;
 * cached until shortly before expiry; one request in flight per webhook.
 */
export class OAuthTokenProvider {
  /** HTTP requests made to token endpoints (fallbacks included). */
  tokenRequests = 0;
  private readonly dispatcher: Dispatcher;
  private readonly allowPrivate: boolean;
  private readonly timeoutMs: number;
  private readonly refreshMarginMs?: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, CacheEntry>();

  constructor(via: HttpSender | Dispatcher, opts: OAuthTokenProviderOptions = {}) {
    this.dispatcher = via instanceof HttpSender ? via.dispatcher : via;
    this.allowPrivate = via instanceof HttpSender ? via.allowPrivateNetworks : (opts.allowPrivateNetworks ?? false);
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.refreshMarginMs = opts.refreshMarginMs;
    this.now = opts.now ?? Date.now;
  }

  getToken(cacheKey: string, creds: OAuthCredentials): Promise<string> {
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([creds.client_url, creds.client_id, creds.client_secret]))
      .digest('base64');
    let entry = this.entries.get(cacheKey);
    if (!entry || entry.fingerprint !== fingerprint) {
      entry = { fingerprint, expiresAt: 0 };
      this.entries.set(cacheKey, entry);
    }
    if (entry.token !== undefined && this.now() < entry.expiresAt) return Promise.resolve(entry.token);
    if (entry.inflight) return entry.inflight;
    const target = entry;
    const inflight = this.fetchToken(target, creds).finally(() => {
      if (target.inflight === inflight) target.inflight = undefined;
    });
    target.inflight = inflight;
    return inflight;
  }

  /** After a 401 from the endpoint. With `token`, only if that is still the cached one (another caller may have refreshed it). */
  invalidate(cacheKey: string, token?: string): void {
    const entry = this.entries.get(cacheKey);
    if (!entry || (token !== undefined && entry.token !== token)) return;
    entry.token = undefined;
    entry.expiresAt = 0;
  }

  /** Drops everything known about a webhook (deleted, or no longer owned by this node). */
  forget(cacheKey: string): void {
    this.entries.delete(cacheKey);
  }

  private async fetchToken(entry: CacheEntry, creds: OAuthCredentials): Promise<string> {
    const order = entry.method ? [entry.method, ...METHODS.filter((m) => m !== entry.method)] : METHODS;
    let lastError: TokenRequestError | undefined;
    for (const method of order) {
      const startedAt = this.now();
      const res = await this.requestOnce(creds, method);
      if (res.status >= 200 && res.status < 300) {
        const { token, expiresInS } = this.parseToken(res.body, creds);
        const lifetimeMs = expiresInS * 1000;
        const margin = this.refreshMarginMs ?? Math.min(30_000, lifetimeMs / 10);
        entry.method = method;
        entry.token = token;
        entry.expiresAt = startedAt + lifetimeMs - margin;
        return token;
      }
      const oauthError = jsonField(res.body, 'error');
      const detail = [oauthError, jsonField(res.body, 'error_description')].filter(Boolean).join(': ');
      lastError = new TokenRequestError(
        redact(`token request to ${describeUrl(creds.client_url)} failed: HTTP ${res.status}${detail ? ` ${detail}` : ''} (client auth: ${method})`, creds),
        res.status,
        oauthError,
      );
      if (res.status !== 400 && res.status !== 401) break;
    }
    throw lastError ?? new TokenRequestError('token request not attempted');
  }

  private async requestOnce(creds: OAuthCredentials, method: ClientAuthMethod): Promise<{ status: number; body: string }> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (method !== 'basic') {
      form.set('client_id', creds.client_id);
      form.set('client_secret', creds.client_secret);
    }
    if (method !== 'post') {
      const basic = `${formEncode(creds.client_id)}:${formEncode(creds.client_secret)}`;
      headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error('timeout')), this.timeoutMs);
    try {
      const url = new URL(creds.client_url);
      assertUrlAllowed(url, this.allowPrivate);
      this.tokenRequests++;
      const res = await request(url, {
        dispatcher: this.dispatcher,
        method: 'POST',
        headers,
        body: form.toString(),
        signal: controller.signal,
      });
      return { status: res.statusCode, body: await readCapped(res.body, MAX_TOKEN_RESPONSE_BYTES) };
    } catch (err) {
      const why = controller.signal.aborted ? 'timeout' : describeError(err);
      throw new TokenRequestError(redact(`token request to ${describeUrl(creds.client_url)} failed: ${why}`, creds));
    } finally {
      clearTimeout(timer);
    }
  }

  private parseToken(body: string, creds: OAuthCredentials): { token: string; expiresInS: number } {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    const obj = (json ?? {}) as { access_token?: unknown; expires_in?: unknown };
    if (typeof obj.access_token !== 'string' || obj.access_token === '') {
      throw new TokenRequestError(redact(`token response from ${describeUrl(creds.client_url)} has no access_token`, creds));
    }
    const expiresIn = Number(obj.expires_in);
    const expiresInS = obj.expires_in !== undefined && Number.isFinite(expiresIn) && expiresIn >= 0 ? expiresIn : DEFAULT_EXPIRES_IN_S;
    return { token: obj.access_token, expiresInS };
  }
}

/** application/x-www-form-urlencoded encoding of one value, as RFC 6749 2.3.1 asks for Basic credentials. */
function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

function jsonField(body: string, field: string): string | undefined {
  try {
    const v = (JSON.parse(body) as Record<string, unknown>)?.[field];
    return typeof v === 'string' ? v.slice(0, 300) : undefined;
  } catch {
    return undefined;
  }
}

/** Origin and path only: a query string could carry anything. */
function describeUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.origin}${u.pathname}`;
  } catch {
    return 'an invalid client_url';
  }
}

/** A token server may echo what it got; the secret never reaches a message or a log. */
function redact(message: string, creds: OAuthCredentials): string {
  const secret = creds.client_secret;
  if (!secret) return message;
  let out = message;
  for (const form of new Set([secret, formEncode(secret), encodeURIComponent(secret)])) out = out.split(form).join('***');
  return out;
}
