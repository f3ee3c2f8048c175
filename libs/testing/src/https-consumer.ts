import { EventEmitter, once } from 'node:events';
import { closeNow, waitForRequests } from './request-log';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { TestPki } from './tls';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Date.now() when the whole body had arrived. */
  receivedAt: number;
  /** Same number for requests that came over the same TLS connection. */
  socketId: number;
  /** The client's address (which host sent it, in a network lab). */
  remoteAddress: string;
}

export interface ConsumerReply {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Answer after this long. */
  delayMs?: number;
  /** Never answer (until close()). */
  hang?: boolean;
}

export type ConsumerHandler = (req: ReceivedRequest) => ConsumerReply | Promise<ConsumerReply>;

export interface HttpsConsumer {
  /** https://127.0.0.1:<port> */
  url: string;
  /** https://localhost:<port>, to go through name resolution */
  localhostUrl: string;
  port: number;
  requests: ReceivedRequest[];
  waitFor(predicate: (reqs: ReceivedRequest[]) => boolean, timeoutMs?: number): Promise<void>;
  setHandler(fn: ConsumerHandler): void;
  close(): Promise<void>;
}

/** A local HTTPS webhook consumer that records every request; the handler decides the answer. */
export async function startHttpsConsumer(opts: {
  pki: Pick<TestPki, 'certPem' | 'keyPem'>;
  handler?: ConsumerHandler;
  /** Listen address (default 127.0.0.1); the certificate must name it. */
  host?: string;
}): Promise<HttpsConsumer> {
  let handler: ConsumerHandler = opts.handler ?? (() => ({ status: 200, body: 'ok' }));
  const requests: ReceivedRequest[] = [];
  const events = new EventEmitter();
  const sockets = new Set<Socket>(); // raw TCP sockets, so half-open handshakes get destroyed too
  const socketIds = new WeakMap<object, number>();
  const timers = new Set<NodeJS.Timeout>();
  let nextSocketId = 1;
  let closed = false;

  const server: Server = createServer({ key: opts.pki.keyPem, cert: opts.pki.certPem });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: TLSSocket) => socketIds.set(socket, nextSocketId++));
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const received: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')])),
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
        socketId: socketIds.get(req.socket) ?? 0,
        remoteAddress: req.socket.remoteAddress ?? '',
      };
      requests.push(received);
      events.emit('request');
      void reply(received, res);
    });
  });

  async function reply(received: ReceivedRequest, res: ServerResponse): Promise<void> {
    let answer: ConsumerReply;
    try {
      answer = await handler(received);
    } catch (err) {
      answer = { status: 500, body: `handler failed: ${(err as Error).message}` };
    }
    if (answer.hang) return;
    const send = () => {
      if (res.destroyed) return;
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body ?? '');
    };
    if (!answer.delayMs) return send();
    const timer = setTimeout(() => {
      timers.delete(timer);
      send();
    }, answer.delayMs);
    timers.add(timer);
  }

  const host = opts.host ?? '127.0.0.1';
  server.listen(0, host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  return {
    url: `https://${host}:${port}`,
    localhostUrl: `https://localhost:${port}`,
    port,
    requests,
    setHandler(fn) {
      handler = fn;
    },
    waitFor(predicate, timeoutMs = 15_000) {
      return waitForRequests(events, requests, predicate, timeoutMs);
    },
    async close() {
      if (closed) return;
      closed = true;
      await closeNow(server, sockets, timers);
    },
  };
}
