import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { storableText } from '@app/domain';

/** Bodies up to this size are read to the end so the connection can be reused; beyond, it is dropped. */
export const DRAIN_LIMIT_BYTES = 64 * 1024;

/** What readCapped has kept so far, so a body that fails half way still leaves its start behind. */
export class BodyPrefix {
  readonly chunks: Buffer[] = [];
  bytes = 0;
  text(): string {
    return storableText(new StringDecoder('utf8').write(this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks)));
  }
}

/**
 * The first `max` bytes of a response body as storable UTF-8 (no half characters; invalid bytes,
 * NUL and lone surrogates replaced). The rest is drained if small, so the connection can be reused;
 * a large or endless body is destroyed, which makes undici close the socket. Plain stream events,
 * no async iteration: most bodies arrive as one chunk. `kept` holds what was read even if the body
 * fails half way.
 */
export function readCapped(body: Readable, max: number, kept: BodyPrefix = new BodyPrefix()): Promise<string> {
  const limit = Math.max(DRAIN_LIMIT_BYTES, max);
  return new Promise((resolve, reject) => {
    let total = 0;
    body.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (kept.bytes < max) {
        const part = kept.bytes + chunk.length <= max ? chunk : chunk.subarray(0, max - kept.bytes);
        kept.chunks.push(part);
        kept.bytes += part.length;
      }
      if (total > limit) {
        body.destroy();
        resolve(kept.text());
      }
    });
    body.once('end', () => resolve(kept.text()));
    body.once('error', reject);
  });
}
