/**
 * What a set-up has started, to be stopped in reverse order: register each thing right after it
 * starts, so a set-up that fails half way stops what it had started instead of leaking it (a
 * nats-server, a database, a child process outliving the run).
 */
export class Teardown {
  private readonly steps: (() => unknown)[] = [];

  /** Registers a stop step and returns the value, for `const x = teardown.add(await start(), (x) => x.close())`. */
  add<T>(value: T, stop: (value: T) => unknown): T {
    this.steps.push(() => stop(value));
    return value;
  }

  /** Runs every step, last registered first; a failing step does not keep the others from running. */
  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch {
        // stopping what is left matters more than why one stop failed
      }
    }
  }

  /** Runs `setUp`; if it throws, runs the steps registered so far, then rethrows. */
  async guard<T>(setUp: () => Promise<T>): Promise<T> {
    try {
      return await setUp();
    } catch (err) {
      await this.run();
      throw err;
    }
  }
}
