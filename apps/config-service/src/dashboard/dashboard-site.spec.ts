import express from 'express';
import { once } from 'node:events';
import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { APPROVAL_API_PREFIX, approvalProxy, DASHBOARD_CSP } from './dashboard-site';

/** The dashboard's route to the approval service: what passes through, what stays behind, what a dead upstream gives. */
describe('approval proxy', () => {
  let upstream: Server;
  let seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  let front: Server;
  let frontUrl: string;

  async function listen(server: Server): Promise<string> {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  function frontFor(target: string): express.Express {
    const app = express();
    app.use(APPROVAL_API_PREFIX, approvalProxy(target, { warn: () => undefined } as never));
    app.use((_req, res) => void res.status(404).send('not here'));
    return app;
  }

  beforeAll(async () => {
    seen = [];
    upstream = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.writeHead(req.url?.includes('missing') ? 404 : 200, { 'content-type': 'application/json', 'set-cookie': 'x=1', 'retry-after': '3' });
        res.end(JSON.stringify({ ok: true }));
      });
    });
    const target = await listen(upstream);
    front = createServer(frontFor(target));
    frontUrl = await listen(front);
  });

  afterAll(async () => {
    front.close();
    upstream.close();
  });

  it('forwards method, path without the prefix, query, body and bearer token; drops cookies both ways', async () => {
    const res = await fetch(`${frontUrl}/approval-api/v2/approvals/abc/approve?x=1`, {
      method: 'POST',
      headers: { authorization: 'Bearer tok', 'content-type': 'application/json', cookie: 'session=secret' },
      body: JSON.stringify({ a: 1 }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(res.headers.get('retry-after')).toBe('3');
    const got = seen.at(-1)!;
    expect(got).toMatchObject({ method: 'POST', url: '/v2/approvals/abc/approve?x=1', body: '{"a":1}' });
    expect(got.headers.authorization).toBe('Bearer tok');
    expect(got.headers.cookie).toBeUndefined();
  });

  it("passes the approval service's status codes through", async () => {
    const res = await fetch(`${frontUrl}/approval-api/v2/missing`);
    expect(res.status).toBe(404);
  });

  it('forwards only /v2/ paths', async () => {
    const before = seen.length;
    const res = await fetch(`${frontUrl}/approval-api/metrics`);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('not here');
    expect(seen.length).toBe(before);
  });

  it('answers 503 with Retry-After and a problem document when the approval service is down', async () => {
    const closed = createServer();
    const deadUrl = await listen(closed);
    closed.close();
    await once(closed, 'close');
    const dead = createServer(frontFor(deadUrl));
    const url = await listen(dead);
    try {
      const res = await fetch(`${url}/approval-api/v2/approval-policies/webhooks`, { headers: { authorization: 'Bearer tok' } });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(await res.json()).toMatchObject({ status: 503, type: expect.stringMatching(/approval-service-unavailable$/) });
    } finally {
      dead.close();
    }
  });

  /** Writes raw bytes to the front and returns what came back once the front closes the connection (send Connection: close). */
  async function raw(bytes: string): Promise<string> {
    const { connect } = await import('node:net');
    const url = new URL(frontUrl);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => socket.write(bytes));
      let out = '';
      socket.on('data', (d) => (out += d));
      socket.on('close', () => resolve(out));
      socket.on('error', reject);
    });
  }

  it('a chunked body can never become a second request upstream (no smuggling)', async () => {
    const before = seen.length;
    const smuggled = 'GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ATTACKER\r\n\r\n';
    for (const method of ['DELETE', 'POST']) {
      const chunk = `${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`;
      await raw(`${method} /approval-api/v2/approvals/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunk}`);
    }
    const got = seen.slice(before);
    expect(got.map((r) => `${r.method} ${r.url}`)).toEqual(['DELETE /v2/approvals/1', 'POST /v2/approvals/1']);
    expect(got[0].body).toBe(''); // a DELETE's body is not forwarded at all
    expect(got[1].body).toBe(smuggled); // a POST's body arrives as a body, with its own length
    expect(got[1].headers['content-length']).toBe(String(smuggled.length));
    expect(got[1].headers['transfer-encoding']).toBeUndefined();
  });

  it('a path that normalises outside /v2/ is not forwarded', async () => {
    const before = seen.length;
    for (const path of ['/approval-api/v2/../metrics', '/approval-api/v2/%2e%2e/metrics', '/approval-api/v2/./../health']) {
      const res = await raw(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(res).toMatch(/^HTTP\/1.1 404/);
    }
    expect(seen.length).toBe(before);
  });

  it('a body over 64 KiB is refused with a problem document and never reaches the approval service', async () => {
    const before = seen.length;
    const res = await fetch(`${frontUrl}/approval-api/v2/approvals/abc/approve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(65 * 1024) });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(seen.length).toBe(before);
  });

  it('the policy allows no inline script, no eval and no framing', () => {
    expect(DASHBOARD_CSP).toContain("script-src 'self'");
    expect(DASHBOARD_CSP).not.toContain('unsafe-inline');
    expect(DASHBOARD_CSP).not.toContain('unsafe-eval');
    expect(DASHBOARD_CSP).toContain("frame-ancestors 'none'");
  });
});
