import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { PROBLEM_CONTENT_TYPE, problemType } from './problem';

/** Statuses for what Node's HTTP parser refuses before any application code runs. */
const PARSER_STATUS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request header fields too large', 'The request line and headers are too large.'],
  HPE_URI_TOO_LONG: [414, 'URI too long', 'The request target is too long.'],
  // 400 rather than 501: the method is not one HTTP/1.1 parsers know, so the request is malformed.
  HPE_INVALID_METHOD: [400, 'Bad request', 'The request method is not one this server knows.'],
};

function rawProblem(socket: Duplex, status: number, title: string, detail: string, code: string, head = false): void {
  const body = JSON.stringify({ type: problemType(code), title, status, detail });
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${head ? '' : body}`,
  );
}

/**
 * Requests that never reach Express still get a problem document instead of Node's bare status
 * line or a dropped connection: unparsable HTTP (bad method, oversized head, broken framing) and
 * CONNECT, which Node hands to a 'connect' listener or else closes without a word.
 */
export function answerParserErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // As Node's own handler: never write into a response already under way on this connection.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) return void socket.destroy();
    const [status, title, detail] = PARSER_STATUS[err.code ?? ''] ?? [400, 'Bad request', 'The request is not valid HTTP.'];
    // A HEAD request's answer has no body, even this one (the bytes seen so far tell the method).
    const head = (err as { rawPacket?: Buffer }).rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
    rawProblem(socket, status, title, detail, status === 431 ? 'headers-too-large' : status === 414 ? 'uri-too-long' : 'bad-request', head);
  });
  server.on('connect', (_req, socket: Duplex) => {
    socket.on('error', () => undefined);
    rawProblem(socket, 405, 'Method not allowed', 'CONNECT is not supported.', 'method-not-allowed');
  });
}
