import { EventEmitter, once } from 'node:events';
import { closeNow, waitForRequests } from './request-log';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSecureContext, TLSSocket } from 'node:tls';
import type { TestPki } from './tls';

/** One request as it came off the wire (HTTP/1.1, Content-Length bodies). */
export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  receivedAt: number;
}

/** What a raw consumer can do with a connection: write any bytes, stall, reset, close. */
export interface RawConnection {
  /** The TLS socket (or the TCP socket of a plain server). */
  socket: Socket;
  /** Bytes as they are, no framing added. */
  write(data: string | Buffer): void;
  /** A complete response with Content-Length, keeping the connection open. */
  respond(status: number | string, body?: string | Buffer, headers?: Record<string, string>): void;
  /** Calls `fn` every `everyMs` until the connection closes or `fn` returns false. */
  every(everyMs: number, fn: () => boolean | void): void;
  /** Runs `fn` after `ms` unless the connection closed first. */
  after(ms: number, fn: () => void): void;
  /**
   * Writes `head` (a status line and headers, chunked framing is added) and then a chunked body
   * without end, as fast as the peer reads it, until the connection closes.
   */
  endless(head: string, chunkBytes?: number): void;
  /** Writes `head` with a Content-Length of `totalBytes`, then that many bytes as fast as the peer reads them. */
  large(head: string, totalBytes: number): void;
  /** Sends a TCP RST (no TLS close_notify, no FIN). */
  reset(): void;
  /** Closes the connection abruptly (FIN without a TLS close_notify). */
  destroy(): void;
}

export type RawHandler = (req: RawRequest, conn: RawConnection) => void;

export interface RawConsumer {
  /** https://127.0.0.1:<port> (http:// for a plain server) */
  url: string;
  port: number;
  requests: RawRequest[];
  setHandler(fn: RawHandler): void;
  /** Resolves once the predicate holds; rejects after timeoutMs saying what was seen. */
  waitFor(predicate: (reqs: RawRequest[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A consumer that speaks HTTP/1.1 by hand, so it can answer anything: bytes that are no HTTP at all,
 * bodies with NUL or invalid UTF-8, endless or trickled bodies, resets, half responses, headers of
 * any size. With `pki` it is an HTTPS server; without, plain TCP (a "server that is not TLS").
 * `onConnection` bypasses the request parser for servers that misbehave before any request.
 */
export async function startRawConsumer(opts: {
  pki?: Pick<TestPki, 'certPem' | 'keyPem'>;
  handler?: RawHandler;
  onConnection?: (conn: RawConnection) => void;
}): Promise<RawConsumer> {
  let handler: RawHandler = opts.handler ?? ((_req, c) => c.respond(200, 'ok'));
  const requests: RawRequest[] = [];
  const events = new EventEmitter();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const secureContext = opts.pki ? createSecureContext({ key: opts.pki.keyPem, cert: opts.pki.certPem }) : undefined;

  const server: Server = createServer((raw) => {
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
    raw.on('error', () => undefined);
    const socket = secureContext ? new TLSSocket(raw, { isServer: true, secureContext }) : raw;
    socket.on('error', () => undefined);
    const conn = connection(raw, socket);
    if (opts.onConnection) return opts.onConnection(conn);
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const [line, ...lines] = buf.subarray(0, end).toString('latin1').split('\r\n');
        const headers: Record<string, string> = {};
        for (const l of lines) {
          const i = l.indexOf(':');
          if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        const length = Number(headers['content-length'] ?? 0);
        if (buf.length < end + 4 + length) return;
        const body = buf.subarray(end + 4, end + 4 + length).toString('utf8');
        buf = buf.subarray(end + 4 + length);
        const [method = '', path = ''] = line.split(' ');
        const req: RawRequest = { method, path, headers, body, receivedAt: Date.now() };
        requests.push(req);
        events.emit('request');
        try {
          handler(req, conn);
        } catch {
          conn.destroy();
        }
      }
    });
  });

  function connection(raw: Socket, socket: Socket): RawConnection {
    const open = () => !socket.destroyed && !raw.destroyed;
    const track = (t: NodeJS.Timeout) => {
      timers.add(t);
      raw.once('close', () => {
        clearTimeout(t);
        clearInterval(t);
        timers.delete(t);
      });
      return t;
    };
    return {
      socket,
      write: (data) => {
        if (open()) socket.write(data);
      },
      respond(status, body = '', headers = {}) {
        if (!open()) return;
        const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
        const head = [`HTTP/1.1 ${typeof status === 'number' ? `${status} X` : status}`, `content-length: ${b.length}`];
        for (const [k, v] of Object.entries(headers)) head.push(`${k}: ${v}`);
        socket.write(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), b]));
      },
      every(everyMs, fn) {
        const t = track(
          setInterval(() => {
            if (!open() || fn() === false) {
              clearInterval(t);
              timers.delete(t);
            }
          }, everyMs),
        );
      },
      after(ms, fn) {
        const t = track(
          setTimeout(() => {
            timers.delete(t);
            if (open()) fn();
          }, ms),
        );
      },
      endless(head, chunkBytes = 16 * 1024) {
        if (!open()) return;
        const chunk = Buffer.concat([Buffer.from(`${chunkBytes.toString(16)}\r\n`), Buffer.alloc(chunkBytes, 'z'), Buffer.from('\r\n')]);
        socket.write(`${head}\r\ntransfer-encoding: chunked\r\n\r\n`);
        const pump = () => {
          while (open() && socket.write(chunk));
        };
        socket.on('drain', pump);
        pump();
      },
      large(head, totalBytes) {
        if (!open()) return;
        const chunk = Buffer.alloc(64 * 1024, 'y');
        let left = totalBytes;
        socket.write(`${head}\r\ncontent-length: ${totalBytes}\r\n\r\n`);
        const pump = () => {
          while (open() && left > 0) {
            const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
            left -= part.length;
            if (!socket.write(part)) return;
          }
        };
        socket.on('drain', pump);
        pump();
      },
      reset: () => {
        if (!raw.destroyed) raw.resetAndDestroy();
      },
      destroy: () => {
        raw.destroy();
      },
    };
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  let closed = false;
  return {
    url: `${secureContext ? 'https' : 'http'}://127.0.0.1:${port}`,
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
