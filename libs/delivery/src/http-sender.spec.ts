import { createServer, type AddressInfo } from 'node:net';
import { makeTestPki, type TestPki } from '../../testing/src/tls';
import { startHttpsConsumer, type HttpsConsumer } from '../../testing/src/https-consumer';
import { startRawConsumer, type RawConnection, type RawConsumer, type RawRequest } from '../../testing/src/raw-consumer';
import { storableText } from '../../domain/src/storable-text';
import { HttpSender, type SendResult } from './http-sender';

jest.setTimeout(30_000);

describe('HttpSender', () => {
  let pki: TestPki;
  let consumer: HttpsConsumer;
  let sender: HttpSender;
  const extra: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    pki = makeTestPki();
    consumer = await startHttpsConsumer({ pki });
    sender = new HttpSender({ allowPrivateNetworks: true, ca: pki.caPem });
  });
  beforeEach(() => {
    consumer.requests.length = 0;
    consumer.setHandler(() => ({ status: 200, body: 'ok' }));
  });
  afterAll(async () => {
    await Promise.all([sender.close(), ...extra.map((x) => x.close())]);
    await consumer.close();
  });
  const post = (s: HttpSender, url: string, body = '{"id":"e1"}') => s.send({ url, headers: { 'content-type': 'application/json', 'webhook-id': 'e1' }, body });

  it('delivers a POST and reports a 2xx as ok', async () => {
    consumer.setHandler(() => ({ status: 202, body: 'accepted', headers: { 'x-reply': 'yes' } }));
    const res = await post(sender, `${consumer.url}/hook?x=1`);
    expect(res).toMatchObject({ ok: true, status: 202, responseExcerpt: 'accepted' });
    expect(res.error).toBeUndefined();
    expect(res.headers?.['x-reply']).toBe('yes');
    expect(res.latencyMs).toBeGreaterThanOrEqual(0);
    expect(consumer.requests).toHaveLength(1);
    expect(consumer.requests[0]).toMatchObject({ method: 'POST', path: '/hook?x=1', body: '{"id":"e1"}' });
    expect(consumer.requests[0].headers).toMatchObject({ 'content-type': 'application/json', 'webhook-id': 'e1' });
  });

  it('reports a 500 as a failure with the response excerpt', async () => {
    consumer.setHandler(() => ({ status: 500, body: 'database on fire' }));
    const res = await post(sender, consumer.url);
    expect(res).toMatchObject({ ok: false, status: 500, responseExcerpt: 'database on fire' });
    expect(res.error).toBeUndefined();
  });

  it('reads Retry-After on a failure', async () => {
    consumer.setHandler(() => ({ status: 429, headers: { 'retry-after': '7' } }));
    expect(await post(sender, consumer.url)).toMatchObject({ ok: false, status: 429, retryAfterMs: 7_000 });
  });

  it('does not follow redirects', async () => {
    consumer.setHandler((r) => (r.path === '/moved' ? { status: 302, headers: { location: '/target' } } : { status: 200 }));
    const res = await post(sender, `${consumer.url}/moved`);
    expect(res).toMatchObject({ ok: false, status: 302 });
    expect(consumer.requests.map((r) => r.path)).toEqual(['/moved']);
  });

  it('caps the response excerpt, without splitting a character', async () => {
    consumer.setHandler(() => ({ status: 400, body: 'é'.repeat(5_000) }));
    const res = await post(sender, consumer.url);
    expect(Buffer.byteLength(res.responseExcerpt ?? '')).toBe(4096);
    expect(res.responseExcerpt).toBe('é'.repeat(2048));

    const small = new HttpSender({ allowPrivateNetworks: true, ca: pki.caPem, maxResponseBytes: 5 });
    extra.push(small);
    expect((await post(small, consumer.url)).responseExcerpt).toBe('éé');
  });

  it('drops a huge response body and keeps working', async () => {
    consumer.setHandler(() => ({ status: 200, body: 'x'.repeat(5_000_000) }));
    const res = await post(sender, consumer.url);
    expect(res).toMatchObject({ ok: true, status: 200 });
    expect(res.responseExcerpt).toHaveLength(4096);
    consumer.setHandler(() => ({ status: 200, body: 'fine' }));
    expect(await post(sender, consumer.url)).toMatchObject({ ok: true, responseExcerpt: 'fine' });
  });

  it('reuses keep-alive connections for sequential requests', async () => {
    const own = new HttpSender({ allowPrivateNetworks: true, ca: pki.caPem });
    extra.push(own);
    // undici hands a socket back to its pool one event-loop turn after a response ends (client-h1
    // setImmediate(resume)), so a sender that yields a turn between sends sees one socket...
    for (let i = 0; i < 5; i++) {
      expect((await post(own, consumer.url)).ok).toBe(true);
      await new Promise(setImmediate);
    }
    expect(consumer.requests).toHaveLength(5);
    expect(new Set(consumer.requests.map((r) => r.socketId)).size).toBe(1);
    // ...and back-to-back sends alternate between at most two.
    consumer.requests.length = 0;
    for (let i = 0; i < 10; i++) expect((await post(own, consumer.url)).ok).toBe(true);
    expect(new Set(consumer.requests.map((r) => r.socketId)).size).toBeLessThanOrEqual(2);
  });

  it('gives up on a hanging server with a timeout error', async () => {
    const quick = new HttpSender({ allowPrivateNetworks: true, ca: pki.caPem, timeoutMs: 500 });
    extra.push(quick);
    consumer.setHandler(() => ({ status: 200, hang: true }));
    const pending = post(quick, consumer.url);
    await consumer.waitFor((reqs) => reqs.length === 1);
    const res = await pending;
    expect(res).toMatchObject({ ok: false, error: 'timeout waiting for response headers (0.5 s)' });
    expect(res.status).toBeUndefined();
    expect(res.latencyMs).toBeGreaterThanOrEqual(400);
    // A slow answer is a timeout too.
    consumer.setHandler(() => ({ status: 200, delayMs: 3_000 }));
    expect(await post(quick, consumer.url)).toMatchObject({ ok: false, error: 'timeout waiting for response headers (0.5 s)' });
  });

  it('refuses loopback targets unless private networks are allowed', async () => {
    const strict = new HttpSender({ allowPrivateNetworks: false, ca: pki.caPem });
    extra.push(strict);
    for (const url of [consumer.url, consumer.localhostUrl, `https://[::ffff:127.0.0.1]:${consumer.port}`]) {
      const res = await post(strict, url);
      expect(res.ok).toBe(false);
      expect(res.error).toMatch(/^ssrf blocked: /);
    }
    expect((await post(strict, `http://127.0.0.1:${consumer.port}`)).error).toMatch(/ssrf blocked: .*only https/);
    // A webhook's own pool connects through the same checks.
    for (const url of [consumer.url, consumer.localhostUrl]) {
      expect((await strict.send({ url, headers: {}, body: 'x', poolKey: 'webhook-1' })).error).toMatch(/^ssrf blocked: /);
    }
    expect(consumer.requests).toHaveLength(0);
  });

  it('checks literal IPs in the dispatcher too, not only in send()', async () => {
    const strict = new HttpSender({ allowPrivateNetworks: false, ca: pki.caPem });
    extra.push(strict);
    const { request } = await import('undici');
    await expect(request(consumer.url, { dispatcher: strict.dispatcher, method: 'POST', body: 'x' })).rejects.toMatchObject({
      code: 'ESSRFBLOCKED',
    });
    expect(consumer.requests).toHaveLength(0);
  });

  it('reports connection and TLS failures without throwing', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const freePort = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    expect(await post(sender, `https://127.0.0.1:${freePort}`)).toMatchObject({ ok: false, error: 'connection refused (connect ECONNREFUSED)' });

    const untrusting = new HttpSender({ allowPrivateNetworks: true });
    extra.push(untrusting);
    const res = await post(untrusting, consumer.url);
    expect(res.ok).toBe(false);
    expect(res.error).toMatch(/^tls certificate rejected: .*\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/);

    expect(await post(sender, 'not a url')).toMatchObject({ ok: false, error: 'invalid url' });
  });

  it('has a test consumer whose waitFor explains what it saw', async () => {
    await post(sender, `${consumer.url}/seen`);
    await expect(consumer.waitFor((reqs) => reqs.length > 1, 200)).rejects.toThrow(/condition not met within 200 ms; 1 request\(s\) received, last: POST \/seen/);
  });
});

/** True when PostgreSQL takes the text as it is (no NUL, no lone surrogate) and it is not empty. */
function storable(text: string | undefined): boolean {
  return typeof text === 'string' && text.length > 0 && !text.includes('\u0000') && storableText(text) === text;
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('HttpSender against hostile consumers', () => {
  const TIMEOUT_MS = 1_000;
  let pki: TestPki;
  let raw: RawConsumer;
  let sender: HttpSender;
  const behaviours = new Map<string, (req: RawRequest, c: RawConnection) => void>();
  const servers: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    pki = makeTestPki();
    raw = await startRawConsumer({
      pki,
      handler: (req, c) => (behaviours.get(req.path) ?? ((_r, conn) => conn.respond(200, 'fine')))(req, c),
    });
    sender = new HttpSender({ allowPrivateNetworks: true, ca: pki.caPem, timeoutMs: TIMEOUT_MS, connectTimeoutMs: 500 });
  });
  afterAll(async () => {
    await sender.close();
    await Promise.all([raw.close(), ...servers.map((x) => x.close())]);
  });

  let n = 0;
  /** Sends to a path that behaves so, each on its own pool; then checks a well-behaved send still works. */
  async function hostile(behave: (req: RawRequest, c: RawConnection) => void): Promise<SendResult> {
    const path = `/h${++n}`;
    behaviours.set(path, behave);
    const res = await sender.send({ url: `${raw.url}${path}`, headers: { 'content-type': 'application/json' }, body: '{}', poolKey: path });
    expect(res.latencyMs).toBeLessThan(TIMEOUT_MS + 2_000);
    expect(await sender.send({ url: `${raw.url}/fine`, headers: {}, body: '{}', poolKey: 'neighbour' })).toMatchObject({ ok: true, responseExcerpt: 'fine' });
    if (res.error !== undefined) expect(storable(res.error)).toBe(true);
    if (res.responseExcerpt) expect(res.responseExcerpt).toBe(storableText(res.responseExcerpt));
    for (const v of Object.values(res.headers ?? {})) expect(v).toBe(storableText(v));
    return res;
  }

  it('NUL bytes, invalid UTF-8, 0xFF and encoded surrogates in a body become storable text', async () => {
    const bytes = Buffer.concat([Buffer.from('a'), Buffer.from([0x00, 0xff, 0xfe]), Buffer.from('b'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('c'), Buffer.from([0xc3])]);
    const res = await hostile((_r, c) => c.respond(400, bytes));
    expect(res).toMatchObject({ ok: false, status: 400 });
    expect(res.error).toBeUndefined(); // a plain failure status says it all
    expect(res.responseExcerpt).toBe('a\uFFFD\uFFFD\uFFFDb\uFFFD\uFFFD\uFFFDc');
    const ok = await hostile((_r, c) => c.respond(200, bytes));
    expect(ok).toMatchObject({ ok: true, status: 200 });
  });

  it('control and 8-bit bytes in header values come back storable', async () => {
    const head = (odd: number[]) => (_r: RawRequest, c: RawConnection) =>
      c.write(Buffer.concat([Buffer.from('HTTP/1.1 503 X\r\ncontent-length: 0\r\nx-odd: a'), Buffer.from(odd), Buffer.from('\r\nretry-after: soon-ish\r\n\r\n')]));
    const res = await hostile(head([0x09, 0xff, 0xc3, 0x80]));
    expect(res).toMatchObject({ ok: false, status: 503 });
    expect(res.retryAfterMs).toBeUndefined(); // a garbage Retry-After is ignored
    expect(res.headers?.['x-odd']).toBe('a\t\u00ff\u00c3\u0080');
    expect(await hostile(head([0x00]))).toMatchObject({ ok: false, error: expect.stringMatching(/^response is not HTTP \(/) });
    expect(await hostile(head([0x01]))).toMatchObject({ ok: false, error: 'response is not HTTP (Invalid header value char)' });
  });

  it('a huge Retry-After is capped, a negative one ignored', async () => {
    expect((await hostile((_r, c) => c.respond(429, '', { 'retry-after': '9'.repeat(400) }))).retryAfterMs).toBe(60 * 60 * 1000);
    expect((await hostile((_r, c) => c.respond(429, '', { 'retry-after': '-5' }))).retryAfterMs).toBeUndefined();
  });

  it('a 50 MB body is cut off after the cap, quickly', async () => {
    const res = await hostile((_r, c) => c.large('HTTP/1.1 500 Big', 50 * 1024 * 1024));
    // No 'then timeout reading response body': the sender stopped reading, it did not wait it out.
    expect(res).toMatchObject({ ok: false, status: 500, responseExcerpt: 'y'.repeat(4096) });
    expect(res.error).toBeUndefined();
    expect(await hostile((_r, c) => c.large('HTTP/1.1 200 Big', 50 * 1024 * 1024))).toMatchObject({ ok: true, status: 200 });
  });

  it('an endless body is cut off after the cap and its connection closed', async () => {
    let conn: RawConnection | undefined;
    const res = await hostile((_r, c) => {
      conn = c;
      c.endless('HTTP/1.1 500 Endless');
    });
    expect(res).toMatchObject({ ok: false, status: 500, responseExcerpt: 'z'.repeat(4096) });
    expect(res.error).toBeUndefined(); // stopped reading, did not run into the timeout
    await until('the endless connection is closed', () => conn!.socket.destroyed);
  });

  it('a send whose guard turns false is cut at once, its connection closed, and says it stopped', async () => {
    let conn: RawConnection | undefined;
    let may = true;
    behaviours.set('/guarded', (_r, c) => {
      conn = c;
      may = false; // the node loses the partition while the endpoint holds the request
    });
    const res = await sender.send({ url: `${raw.url}/guarded`, headers: {}, body: '{}', poolKey: '/guarded', mayContinue: () => may });
    expect(res).toEqual({ ok: false, stopped: true, latencyMs: expect.any(Number), error: 'stopped: this node may no longer deliver for the webhook' });
    expect(res.latencyMs).toBeLessThan(TIMEOUT_MS);
    await until('the guarded connection is closed', () => conn!.socket.destroyed);
  });

  it('headers later than the timeout, or never, are a headers timeout', async () => {
    for (const behave of [(_r: RawRequest, c: RawConnection) => c.after(TIMEOUT_MS + 500, () => c.respond(200)), () => undefined]) {
      const res = await hostile(behave);
      expect(res).toEqual({ ok: false, latencyMs: expect.any(Number), error: 'timeout waiting for response headers (1 s)' });
      expect(res.latencyMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
    }
  });

  it('a body trickled, or endless but slow, is cut off at the attempt timeout; the status decides', async () => {
    const trickle = (status: number) => (_r: RawRequest, c: RawConnection) => {
      c.write(`HTTP/1.1 ${status} Slow\r\ntransfer-encoding: chunked\r\n\r\n`);
      c.every(50, () => c.write('1\r\n.\r\n'));
    };
    const failed = await hostile(trickle(500));
    expect(failed).toMatchObject({ ok: false, status: 500, error: 'HTTP 500, then timeout reading response body (1 s)' });
    expect(failed.responseExcerpt).toMatch(/^\.+$/);
    expect(failed.latencyMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
    // A 2xx status line is the consumer's acceptance; a body that never ends does not undo it.
    const accepted = await hostile(trickle(204));
    expect(accepted).toMatchObject({ ok: true, status: 204 });
    expect(accepted.error).toBeUndefined();
  });

  it('a reset or a close before the answer', async () => {
    expect(await hostile((_r, c) => c.reset())).toMatchObject({ ok: false, error: 'connection reset by peer' });
    expect(await hostile((_r, c) => c.destroy())).toMatchObject({ ok: false, error: 'connection closed by peer before a complete response' });
    expect(await hostile((_r, c) => c.write('HTTP/1.1 200 OK\r\ncontent-'))).toMatchObject({ ok: false, error: 'timeout waiting for response headers (1 s)' });
  });

  it('a close or reset mid-body keeps the status and says what happened', async () => {
    const half = (status: number, end: 'destroy' | 'reset') => (_r: RawRequest, c: RawConnection) => {
      c.write(`HTTP/1.1 ${status} Half\r\ncontent-length: 1000\r\n\r\nhalf`);
      c.after(50, () => c[end]());
    };
    expect(await hostile(half(500, 'destroy'))).toMatchObject({ ok: false, status: 500, responseExcerpt: 'half', error: 'HTTP 500, then connection closed by peer mid-body' });
    expect(await hostile(half(502, 'reset'))).toMatchObject({ ok: false, status: 502, responseExcerpt: 'half', error: 'HTTP 502, then connection reset by peer mid-body' });
    expect(await hostile(half(200, 'destroy'))).toMatchObject({ ok: true, status: 200, responseExcerpt: 'half' });
    const badChunk = await hostile((_r, c) => c.write('HTTP/1.1 500 X\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n'));
    expect(badChunk).toMatchObject({ ok: false, status: 500, error: 'HTTP 500, then malformed response body (Invalid character in chunk size)' });
  });

  it('redirects are not followed and say where they pointed', async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      const before = raw.requests.length;
      const res = await hostile((_r, c) => c.respond(status, '', { location: 'https://elsewhere.example/x' }));
      expect(res).toMatchObject({ ok: false, status, error: `redirect not followed (HTTP ${status} to https://elsewhere.example/x)` });
      expect(raw.requests.length).toBe(before + 2); // the redirect and the neighbour's request, nothing else
    }
    const long = await hostile((_r, c) => c.respond(302, '', { location: `https://x.example/${'a'.repeat(10_000)}` }));
    expect(long.error!.length).toBeLessThan(400);
    expect(await hostile((_r, c) => c.respond(301))).toMatchObject({ error: 'redirect not followed (HTTP 301)' });
  });

  it('bytes that are not HTTP', async () => {
    const cases: [string | Buffer, string][] = [
      ['SSH-2.0-OpenSSH_9.6\r\n\r\n', 'response is not HTTP (Expected HTTP/, RTSP/ or ICE/)'],
      [Buffer.from([0xff, 0x00, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a]), 'response is not HTTP (Expected HTTP/, RTSP/ or ICE/)'],
      ['HTTP/1.1\r\ncontent-length: 0\r\n\r\n', 'response is not HTTP (Expected space after version)'],
      ['HTTP/1.1 1000 Big\r\ncontent-length: 0\r\n\r\n', 'response is not HTTP (Invalid response status)'],
      ['HTTP/1.1 99 Low\r\ncontent-length: 0\r\n\r\n', 'response is not HTTP (Invalid status code)'],
      ['HTTP/1.1 000 Zero\r\ncontent-length: 0\r\n\r\n', 'response is not HTTP (rejected by the HTTP client)'],
      ['HTTP/1.1 100 Continue\r\n\r\n', 'response is not HTTP (an unrequested 100 Continue, or bytes before any request)'],
      ['HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\nconnection: upgrade\r\n\r\n', 'response is not HTTP (unrequested protocol upgrade, HTTP 101)'],
    ];
    for (const [bytes, error] of cases) expect(await hostile((_r, c) => c.write(bytes))).toMatchObject({ ok: false, error });
  });

  it('a status outside 100..599 is kept but called invalid', async () => {
    for (const status of [999, 600]) {
      expect(await hostile((_r, c) => c.respond(status, 'odd'))).toMatchObject({ ok: false, status, error: `HTTP ${status} is not a valid status code`, responseExcerpt: 'odd' });
    }
  });

  it('a huge header', async () => {
    expect(await hostile((_r, c) => c.respond(200, 'x', { 'x-big': 'a'.repeat(100_000) }))).toMatchObject({ ok: false, error: 'response headers too large' });
  });

  it('TLS failures: a certificate from an unknown CA, a server that is not TLS, a handshake that never ends', async () => {
    const stranger = await startRawConsumer({ pki: makeTestPki() });
    const plain = await startRawConsumer({ onConnection: (c) => c.socket.once('data', () => c.write('HTTP/1.1 400 Bad Request\r\n\r\n')) });
    const silent = await startRawConsumer({ onConnection: () => undefined });
    servers.push(stranger, plain, silent);
    const send = (url: string) => sender.send({ url, headers: {}, body: '{}', poolKey: url });
    expect((await send(stranger.url)).error).toMatch(/^tls certificate rejected: unable to verify the first certificate \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/);
    expect(await send(plain.url.replace('http:', 'https:'))).toMatchObject({
      ok: false,
      error: 'tls handshake failed: the server does not speak TLS (ERR_SSL_WRONG_VERSION_NUMBER)',
    });
    expect(await send(silent.url.replace('http:', 'https:'))).toMatchObject({ ok: false, error: 'connect timeout (no TCP/TLS connection established in time)' });
  });
});

describe('HttpSender connection pools', () => {
  let pki: TestPki;
  let consumer: HttpsConsumer;
  const senders: HttpSender[] = [];

  beforeAll(async () => {
    pki = makeTestPki();
    consumer = await startHttpsConsumer({ pki, handler: (r) => (r.path === '/hang' ? { status: 200, hang: true } : { status: 200, body: 'ok' }) });
  });
  afterAll(async () => {
    await consumer.close(); // ends the hanging requests first
    await Promise.all(senders.map((s) => s.close()));
  });
  const make = (opts: Partial<ConstructorParameters<typeof HttpSender>[0]> = {}) => {
    const s = new HttpSender({ allowPrivateNetworks: true, ca: pki.caPem, ...opts });
    senders.push(s);
    return s;
  };
  const send = (s: HttpSender, path: string, poolKey?: string) => s.send({ url: `${consumer.url}${path}`, headers: {}, body: '{}', poolKey });

  it('a webhook whose endpoint hangs cannot take the connections another webhook to the same origin needs', async () => {
    const s = make({ connectionsPerOrigin: 2, timeoutMs: 5_000 });
    const stuck = [send(s, '/hang', 'A'), send(s, '/hang', 'A')];
    await consumer.waitFor((reqs) => reqs.filter((r) => r.path === '/hang').length === 2);
    // A's third request has to wait for one of A's two connections...
    let aDone = false;
    const third = send(s, '/fast', 'A').then((r) => ((aDone = true), r));
    // ...while B, to the same origin, gets its own at once.
    const b = await send(s, '/fast', 'B');
    expect(b).toMatchObject({ ok: true, responseExcerpt: 'ok' });
    expect(b.latencyMs).toBeLessThan(3_000);
    expect(aDone).toBe(false);
    expect(s.poolCount).toBe(2);
    for (const r of await Promise.all(stuck)) expect(r.error).toMatch(/^timeout waiting for response headers/);
    await third;
  });

  it("one key's webhooks of one origin share keep-alive connections; another key never gets them", async () => {
    const s = make();
    for (let i = 0; i < 5; i++) expect(await send(s, `/share-${i}`, 'account-1')).toMatchObject({ ok: true }); // five webhooks, one origin
    expect(await send(s, '/share-other', 'account-2')).toMatchObject({ ok: true });
    const mine = consumer.requests.filter((r) => /^\/share-\d$/.test(r.path));
    expect(mine).toHaveLength(5);
    const sockets = new Set(mine.map((r) => r.socketId));
    expect(sockets.size).toBeLessThanOrEqual(2); // a pool per webhook would have made 5
    expect(sockets.has(consumer.requests.find((r) => r.path === '/share-other')!.socketId)).toBe(false);
  });

  it('without a cap, requests that hang take no connection another request of the same key needs', async () => {
    const s = make({ timeoutMs: 5_000 });
    const stuck = Array.from({ length: 20 }, () => send(s, '/hang', 'account-1'));
    await consumer.waitFor((reqs) => reqs.filter((r) => r.path === '/hang').length >= 20);
    const other = await send(s, '/fast', 'account-1');
    expect(other).toMatchObject({ ok: true, responseExcerpt: 'ok' });
    expect(other.latencyMs).toBeLessThan(3_000);
    for (const r of await Promise.all(stuck)) expect(r.error).toMatch(/^timeout waiting for response headers/);
  });

  it('closes pools left idle, and forget() closes one at once; requests in flight still finish', async () => {
    const s = make({ poolIdleMs: 100 });
    expect(await send(s, '/a', 'idle')).toMatchObject({ ok: true });
    expect(s.poolCount).toBe(1);
    await until('the idle pool is closed', () => s.poolCount === 0);
    expect(await send(s, '/a', 'idle')).toMatchObject({ ok: true }); // a new pool when needed again

    const t = make({ poolIdleMs: 60_000 });
    consumer.setHandler(() => ({ status: 200, body: 'late', delayMs: 200 }));
    try {
      const pending = send(t, '/a', 'gone');
      await consumer.waitFor((reqs) => reqs.some((r) => r.path === '/a' && r.headers['content-length'] === '2'));
      t.forget('gone');
      expect(t.poolCount).toBe(0);
      expect(await pending).toMatchObject({ ok: true, responseExcerpt: 'late' });
      t.forget('never-seen'); // harmless
    } finally {
      consumer.setHandler((r) => (r.path === '/hang' ? { status: 200, hang: true } : { status: 200, body: 'ok' }));
    }
  });
});
