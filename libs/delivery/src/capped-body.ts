import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { storableText } from '@app/domain';

/** Bodies up to this size are read to the end so the connection can be reused; beyond, it is dropped. */
const DRAIN_LIMIT_BYTES = 64 * 1024;

/**
 * The first `max` bytes of a body as it arrives, and whether the body has grown past the drain
 * limit; what was kept stays behind when the body fails half way.
 */
export class BodyPrefix {
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  private total = 0;
  private readonly limit: number;

  constructor(private readonly max: number) {
    this.limit = Math.max(DRAIN_LIMIT_BYTES, max);
  }

  /** Keeps what of the chunk fits under `max`; true once the body is past the drain limit (stop reading it). */
  add(chunk: Buffer): boolean {
    this.total += chunk.length;
    if (this.bytes < this.max) {
      const part = this.bytes + chunk.length <= this.max ? chunk : chunk.subarray(0, this.max - this.bytes);
      this.chunks.push(part);
      this.bytes += part.length;
    }
    return this.total > this.limit;
  }

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
export function readCapped(body: Readable, max: number, kept: BodyPrefix = new BodyPrefix(max)): Promise<string> {
  return new Promise((resolve, reject) => {
    body.on('data', (chunk: Buffer) => {
      if (kept.add(chunk)) {
        body.destroy();
        resolve(kept.text());
      }
    });
    body.once('end', () => resolve(kept.text()));
    body.once('error', reject);
  });
}
