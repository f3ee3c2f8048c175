/**
 * Micro-batching without a timer: a batch is what arrived while the one before was processed (and
 * what one read brought), so a lone item goes at once and a busy source still makes big batches.
 * One drain loop at most: items arriving while it runs are taken by it, never by a second caller
 * queued behind it (callers that waited each in turn piled up one per event-loop turn).
 */
export class BatchDrain<T> {
  private buffer: T[] = [];
  private draining?: Promise<void>;
  private scheduled?: NodeJS.Immediate;
  private halted = false;

  constructor(
    private readonly batchSize: number,
    private readonly process: (batch: T[]) => Promise<void>,
    private readonly onError: (err: Error) => void,
  ) {}

  /** Buffers an item. With a full batch buffered, returns the running loop to wait on (backpressure). */
  push(item: T): Promise<void> | undefined {
    this.buffer.push(item);
    if (this.buffer.length >= this.batchSize) return this.drain();
    this.schedule();
    return undefined;
  }

  /** Batches may start again (after halt). */
  resume(): void {
    this.halted = false;
  }

  /** No new batch starts; the one running goes on. */
  halt(): void {
    this.halted = true;
    clearImmediate(this.scheduled);
    this.scheduled = undefined;
  }

  /** After halt: waits for the running batch, then hands back what was never processed. */
  async leftovers(): Promise<T[]> {
    await this.draining;
    return this.buffer.splice(0);
  }

  /** Starts the loop once this turn of the event loop has handed over what one read brought. */
  private schedule(): void {
    if (this.draining || this.scheduled || this.halted) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      this.drain().catch(this.onError);
    });
  }

  private drain(): Promise<void> {
    this.draining ??= (async () => {
      try {
        while (this.buffer.length && !this.halted) await this.process(this.buffer.splice(0, this.batchSize));
      } finally {
        this.draining = undefined;
      }
    })();
    return this.draining;
  }
}
