import { BatchDrain } from './batch-drain';

/**
 * Until what the drain scheduled has run: an immediate, a timer, another immediate. (A timer alone
 * raced the drain's setImmediate on a loaded machine: a timer whose millisecond has passed runs
 * first.) Through the original setImmediate, since the test counts the drain's own calls.
 */
const immediate = setImmediate;
const turn = () => new Promise<void>((r) => immediate(() => setTimeout(() => immediate(r), 0)));

/** A process function whose batches the test finishes by hand. */
function gatedProcess() {
  const batches: number[][] = [];
  const gates: (() => void)[] = [];
  let running = 0;
  let mostAtOnce = 0;
  const process = async (batch: number[]) => {
    batches.push(batch);
    running++;
    mostAtOnce = Math.max(mostAtOnce, running);
    await new Promise<void>((r) => gates.push(r));
    running--;
  };
  const finishOne = async () => {
    gates.shift()!();
    await turn();
  };
  return { process, batches, finishOne, mostAtOnce: () => mostAtOnce };
}

describe('BatchDrain', () => {
  it('sends a lone item at once, and what arrives during a batch as the next batch, never two batches at once', async () => {
    const p = gatedProcess();
    const drain = new BatchDrain<number>(500, p.process, (err) => fail(err));
    const immediates = jest.spyOn(global, 'setImmediate');
    void drain.push(1);
    await turn();
    expect(p.batches).toEqual([[1]]);
    // Items over many turns of the event loop while the first batch runs.
    for (let i = 2; i <= 50; i++) {
      void drain.push(i);
      await turn();
    }
    expect(p.batches).toHaveLength(1);
    // The class: a caller per turn queued behind the running batch (49 here, without bound under load).
    expect(immediates).toHaveBeenCalledTimes(1);
    immediates.mockRestore();
    await p.finishOne();
    expect(p.batches[1]).toEqual(Array.from({ length: 49 }, (_, i) => i + 2));
    await p.finishOne();
    expect(p.batches).toHaveLength(2); // one loop took everything: no waiter woke for an empty buffer
    expect(p.mostAtOnce()).toBe(1);
  });

  it('cuts batches at the batch size and makes a full buffer wait for the loop', async () => {
    const p = gatedProcess();
    const drain = new BatchDrain<number>(3, p.process, (err) => fail(err));
    expect(drain.push(1)).toBeUndefined();
    expect(drain.push(2)).toBeUndefined();
    const full = drain.push(3);
    expect(full).toBeInstanceOf(Promise);
    let waited = true;
    void full!.then(() => (waited = false));
    void drain.push(4);
    await turn();
    expect(p.batches).toEqual([[1, 2, 3]]);
    await p.finishOne();
    expect(p.batches).toEqual([[1, 2, 3], [4]]);
    expect(waited).toBe(true);
    await p.finishOne();
    expect(waited).toBe(false);
  });

  it('after halt lets the running batch finish, starts no other, and hands back the rest', async () => {
    const p = gatedProcess();
    const drain = new BatchDrain<number>(500, p.process, (err) => fail(err));
    void drain.push(1);
    await turn();
    void drain.push(2);
    void drain.push(3);
    drain.halt();
    const rest = drain.leftovers();
    let handedBack: number[] | undefined;
    void rest.then((r) => (handedBack = r));
    await turn();
    expect(handedBack).toBeUndefined(); // the running batch is not done yet
    await p.finishOne();
    expect(await rest).toEqual([2, 3]);
    expect(p.batches).toEqual([[1]]);
    void drain.push(4); // halted: buffered, not processed
    await turn();
    expect(p.batches).toEqual([[1]]);
    drain.resume();
    void drain.push(5);
    await turn();
    expect(p.batches).toEqual([[1], [4, 5]]);
  });
});
