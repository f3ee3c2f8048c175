import { makeTestPki, type TestPki } from '../../testing/src/tls';
import { startHttpsConsumer, type ConsumerHandler, type HttpsConsumer, type ReceivedRequest } from '../../testing/src/https-consumer';
import { HttpSender } from './http-sender';
import { OAuthTokenProvider, TokenRequestError, type OAuthCredentials } from './oauth-token-provider';

jest.setTimeout(30_000);

const CLIENT_ID = 'my client';
const SECRET = 'p@ss:w/rd+é s3cr3t';
const basicHeader = (id: string, secret: string) => {
  const enc = (s: string) => new URLSearchParams([['', s]]).toString().slice(1);
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
};

/** What a token request carried: 'both', 'basic' or 'post'. */
function methodOf(r: ReceivedRequest): string {
  const form = new URLSearchParams(r.body);
  const inBody = form.has('client_id') || form.has('client_secret');
  const inHeader = r.headers.authorization !== undefined;
  return inBody && inHeader ? 'both' : inHeader ? 'basic' : inBody ? 'post' : 'none';
}

/** A token server that checks the credentials and issues tok-1, tok-2, ... */
function tokenServer(opts: { accept?: (method: string) => boolean; expiresIn?: number | null; delayMs?: number } = {}): ConsumerHandler {
  let issued = 0;
  return (r) => {
    const form = new URLSearchParams(r.body);
    const method = methodOf(r);
    if (form.get('grant_type') !== 'client_credentials') return { status: 400, body: '{"error":"unsupported_grant_type"}' };
    if (method === 'both' && opts.accept && !opts.accept('both')) return { status: 400, body: '{"error":"invalid_request"}' };
    if (opts.accept && !opts.accept(method)) return { status: 401, body: '{"error":"invalid_client"}' };
    const okHeader = r.headers.authorization === undefined || r.headers.authorization === basicHeader(CLIENT_ID, SECRET);
    const okBody = !form.has('client_id') || (form.get('client_id') === CLIENT_ID && form.get('client_secret') === SECRET);
    if (!okHeader || !okBody) return { status: 401, body: '{"error":"invalid_client"}' };
    const body: Record<string, unknown> = { access_token: `tok-${++issued}`, token_type: 'Bearer' };
    if (opts.expiresIn !== null) body.expires_in = opts.expiresIn ?? 3600;
    return { status: 200, body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, delayMs: opts.delayMs };
  };
}

describe('OAuthTokenProvider', () => {
  let pki: TestPki;
  let server: HttpsConsumer;
  let sender: HttpSender;
  let creds: OAuthCredentials;
  let clock: number;
  let provider: OAuthTokenProvider;

  beforeAll(async () => {
    pki = makeTestPki();
    server = await startHttpsConsumer({ pki });
    sender = new HttpSender({ allowPrivateNetworks: true, ca: pki.caPem });
  });
  beforeEach(() => {
    server.requests.length = 0;
    server.setHandler(tokenServer());
    creds = { client_url: `${server.url}/oauth/token`, client_id: CLIENT_ID, client_secret: SECRET };
    clock = 1_000_000;
    provider = new OAuthTokenProvider(sender, { now: () => clock });
  });
  afterAll(async () => {
    await sender.close();
    await server.close();
  });

  it('sends both client-authentication methods in the first request', async () => {
    expect(await provider.getToken('wh1', creds)).toBe('tok-1');
    const [r] = server.requests;
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/oauth/token');
    expect(r.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(r.headers.authorization).toBe(basicHeader(CLIENT_ID, SECRET));
    expect(r.headers.authorization).toBe(`Basic ${Buffer.from('my+client:p%40ss%3Aw%2Frd%2B%C3%A9+s3cr3t').toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(r.body))).toEqual({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: SECRET,
    });
  });

  it('fetches a token once for many calls', async () => {
    for (let i = 0; i < 20; i++) expect(await provider.getToken('wh1', creds)).toBe('tok-1');
    expect(provider.tokenRequests).toBe(1);
    expect(server.requests).toHaveLength(1);
  });

  it('keeps one request in flight per webhook', async () => {
    server.setHandler(tokenServer({ delayMs: 200 }));
    const tokens = await Promise.all(Array.from({ length: 10 }, () => provider.getToken('wh1', creds)));
    expect(tokens).toEqual(Array(10).fill('tok-1'));
    expect(provider.tokenRequests).toBe(1);
    // Other webhooks have their own tokens.
    expect(await Promise.all([provider.getToken('wh2', creds), provider.getToken('wh3', creds)])).toEqual(expect.arrayContaining(['tok-2', 'tok-3']));
    expect(provider.tokenRequests).toBe(3);
  });

  it('refreshes shortly before expires_in ends', async () => {
    server.setHandler(tokenServer({ expiresIn: 1 })); // margin = min(30 s, 10%) = 100 ms
    expect(await provider.getToken('wh1', creds)).toBe('tok-1');
    clock += 850;
    expect(await provider.getToken('wh1', creds)).toBe('tok-1');
    clock += 100;
    expect(await provider.getToken('wh1', creds)).toBe('tok-2');
    expect(provider.tokenRequests).toBe(2);
  });

  it('assumes 3600 s when expires_in is absent, refreshing 30 s early', async () => {
    server.setHandler(tokenServer({ expiresIn: null }));
    expect(await provider.getToken('wh1', creds)).toBe('tok-1');
    clock += 3_569_000;
    expect(await provider.getToken('wh1', creds)).toBe('tok-1');
    clock += 2_000;
    expect(await provider.getToken('wh1', creds)).toBe('tok-2');
  });

  it('refetches after expiry on the real clock too', async () => {
    const real = new OAuthTokenProvider(sender);
    server.setHandler(tokenServer({ expiresIn: 1 }));
    expect(await real.getToken('wh1', creds)).toBe('tok-1');
    const deadline = Date.now() + 10_000;
    let token = 'tok-1';
    while (token === 'tok-1' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50)); // polling interval, not a synchronisation
      token = await real.getToken('wh1', creds);
    }
    expect(token).toBe('tok-2');
    expect(real.tokenRequests).toBe(2);
  });

  it('refetches after invalidate, but not for a token that was already replaced', async () => {
    expect(await provider.getToken('wh1', creds)).toBe('tok-1');
    provider.invalidate('wh1', 'tok-1');
    expect(await provider.getToken('wh1', creds)).toBe('tok-2');
    provider.invalidate('wh1', 'tok-1'); // a late 401 for the old token
    expect(await provider.getToken('wh1', creds)).toBe('tok-2');
    provider.invalidate('wh1');
    expect(await provider.getToken('wh1', creds)).toBe('tok-3');
    expect(provider.tokenRequests).toBe(3);
  });

  it('does not reuse a token when the credentials change', async () => {
    expect(await provider.getToken('wh1', creds)).toBe('tok-1');
    const other = { ...creds, client_url: `${server.url}/oauth/token?v=2` };
    expect(await provider.getToken('wh1', other)).toBe('tok-2');
    expect(server.requests[1].path).toBe('/oauth/token?v=2');
    await expect(provider.getToken('wh1', { ...creds, client_secret: 'rotated' })).rejects.toThrow(TokenRequestError);
  });

  it('falls back to Basic alone on a strict server, and remembers it', async () => {
    server.setHandler(tokenServer({ accept: (m) => m === 'basic' }));
    expect(await provider.getToken('wh1', creds)).toBe('tok-1');
    expect(server.requests.map(methodOf)).toEqual(['both', 'basic']);
    expect(Object.fromEntries(new URLSearchParams(server.requests[1].body))).toEqual({ grant_type: 'client_credentials' });

    provider.invalidate('wh1');
    expect(await provider.getToken('wh1', creds)).toBe('tok-2');
    expect(server.requests.map(methodOf)).toEqual(['both', 'basic', 'basic']);
  });

  it('falls back to body credentials alone, and remembers it', async () => {
    server.setHandler(tokenServer({ accept: (m) => m === 'post' }));
    expect(await provider.getToken('wh1', creds)).toBe('tok-1');
    expect(server.requests.map(methodOf)).toEqual(['both', 'basic', 'post']);
    expect(server.requests[2].headers.authorization).toBeUndefined();

    provider.invalidate('wh1');
    expect(await provider.getToken('wh1', creds)).toBe('tok-2');
    expect(server.requests.map(methodOf)).toEqual(['both', 'basic', 'post', 'post']);
    expect(provider.tokenRequests).toBe(4);
  });

  it('fails with a TokenRequestError that never shows the secret', async () => {
    server.setHandler((r) => ({ status: 401, body: JSON.stringify({ error: 'invalid_client', error_description: `bad secret in ${r.body}` }) }));
    const err = (await provider.getToken('wh1', creds).catch((e: unknown) => e)) as TokenRequestError;
    expect(err).toBeInstanceOf(TokenRequestError);
    expect(err.status).toBe(401);
    expect(err.oauthError).toBe('invalid_client');
    expect(err.message).toMatch(/HTTP 401 invalid_client/);
    expect(err.message).not.toContain(SECRET);
    expect(err.message).not.toContain(encodeURIComponent(SECRET));
    expect(err.message).not.toContain('s3cr3t');
    expect(server.requests.map(methodOf)).toEqual(['both', 'basic', 'post']);

    // Other statuses are not retried with another method.
    server.requests.length = 0;
    server.setHandler(() => ({ status: 503, body: 'down' }));
    await expect(provider.getToken('wh2', creds)).rejects.toThrow(/HTTP 503/);
    expect(server.requests).toHaveLength(1);

    server.setHandler(() => ({ status: 200, body: '{"token_type":"Bearer"}' }));
    await expect(provider.getToken('wh3', creds)).rejects.toThrow(/no access_token/);

    const refused = { ...creds, client_url: 'https://127.0.0.1:1/token' };
    await expect(provider.getToken('wh4', refused)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('times out a hanging token server', async () => {
    const quick = new OAuthTokenProvider(sender, { timeoutMs: 300 });
    server.setHandler(() => ({ status: 200, hang: true }));
    await expect(quick.getToken('wh1', creds)).rejects.toThrow(/failed: timeout/);
  });

  it('refuses private and non-https token URLs unless private networks are allowed', async () => {
    const strict = new OAuthTokenProvider(sender.dispatcher);
    await expect(strict.getToken('wh1', creds)).rejects.toThrow(/ssrf blocked/);
    await expect(strict.getToken('wh1', { ...creds, client_url: 'http://example.com/token' })).rejects.toThrow(/ssrf blocked/);
    expect(server.requests).toHaveLength(0);
  });
});
