import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { PROBLEM_CONTENT_TYPE, problemType } from './problem';

/** Statuses for what Node's HTTP parser refuses before any application code runs. */
const PARSER_STATUS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request header fields too large', 'The request line and headers are too large.'],
  HPE_URI_TOO_LONG: [414, 'URI too long', 'The request target is too long.'],
  HPE_INVALID_METHOD: [501, 'Not implemented', 'The request method is not supported.'],
};

function rawProblem(socket: Duplex, status: number, title: string, detail: string, code: string): void {
  const body = JSON.stringify({ type: problemType(code), title, status, detail });
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Requests that never reach Express still get a problem document instead of Node's bare status
 * line or a dropped connection: unparsable HTTP (bad method, oversized head, broken framing) and
 * CONNECT, which Node hands to a 'connect' listener or else closes without a word.
 */
export function answerParserErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const [status, title, detail] = PARSER_STATUS[err.code ?? ''] ?? [400, 'Bad request', 'The request is not valid HTTP.'];
    rawProblem(socket, status, title, detail, status === 400 ? 'bad-request' : status === 431 ? 'headers-too-large' : status === 414 ? 'uri-too-long' : 'not-implemented');
  });
  server.on('connect', (_req, socket: Duplex) => {
    socket.on('error', () => undefined);
    rawProblem(socket, 405, 'Method not allowed', 'CONNECT is not supported.', 'method-not-allowed');
  });
}
