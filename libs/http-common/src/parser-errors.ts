import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { catalogueProblem, PROBLEM_CONTENT_TYPE } from './problem';
import type { ProblemCode } from './problem-catalogue';

/** Problems for what Node's HTTP parser refuses before any application code runs. */
const PARSER_PROBLEMS: Record<string, [ProblemCode, string]> = {
  HPE_HEADER_OVERFLOW: ['headers-too-large', 'The request line and headers are too large.'],
  HPE_URI_TOO_LONG: ['uri-too-long', 'The request target is too long.'],
  // 400 rather than 501: the method is not one HTTP/1.1 parsers know, so the request is malformed.
  HPE_INVALID_METHOD: ['bad-request', 'The request method is not one this server knows.'],
};

function rawProblem(socket: Duplex, code: ProblemCode, detail: string, head = false): void {
  const problem = catalogueProblem(code, detail);
  const { status, title } = problem;
  const body = JSON.stringify(problem);
  socket.end(`HTTP/1.1 ${status} ${title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${head ? '' : body}`);
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
    const [code, detail] = PARSER_PROBLEMS[err.code ?? ''] ?? ['bad-request', 'The request is not valid HTTP.'];
    // A HEAD request's answer has no body, even this one (the bytes seen so far tell the method).
    const head = (err as { rawPacket?: Buffer }).rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
    rawProblem(socket, code, detail, head);
  });
  server.on('connect', (_req, socket: Duplex) => {
    socket.on('error', () => undefined);
    rawProblem(socket, 'method-not-allowed', 'CONNECT is not supported.');
  });
}
