import { createServer, type AddressInfo } from 'node:net';
import { makeTestPki, type TestPki } from '../../testing/src/tls';
import { startHttpsConsumer, type HttpsConsumer } from '../../testing/src/https-consumer';
import { HttpSender } from './http-sender';

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
  const post = (s: HttpSender, url: string, body = '{"id":"e1"}') =>
    s.send({ url, headers: { 'content-type': 'application/json', 'webhook-id': 'e1' }, body });

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
    expect(res).toMatchObject({ ok: false, error: 'timeout' });
    expect(res.status).toBeUndefined();
    expect(res.latencyMs).toBeGreaterThanOrEqual(400);
    // A slow answer is a timeout too.
    consumer.setHandler(() => ({ status: 200, delayMs: 3_000 }));
    expect(await post(quick, consumer.url)).toMatchObject({ ok: false, error: 'timeout' });
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
    expect(await post(sender, `https://127.0.0.1:${freePort}`)).toMatchObject({ ok: false, error: 'connect ECONNREFUSED' });

    const untrusting = new HttpSender({ allowPrivateNetworks: true });
    extra.push(untrusting);
    const res = await post(untrusting, consumer.url);
    expect(res.ok).toBe(false);
    expect(res.error).toMatch(/^tls /);

    expect(await post(sender, 'not a url')).toMatchObject({ ok: false, error: 'invalid url' });
  });

  it('has a test consumer whose waitFor explains what it saw', async () => {
    await post(sender, `${consumer.url}/seen`);
    await expect(consumer.waitFor((reqs) => reqs.length > 1, 200)).rejects.toThrow(
      /condition not met within 200 ms; 1 request\(s\) received, last: POST \/seen/,
    );
  });
});
