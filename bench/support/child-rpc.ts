import { ChildProcess, fork } from 'node:child_process';

/**
 * Request/reply over the IPC channel of a forked bench helper (sink, raw client): every request
 * carries an id, the child answers `{ id, result }` or `{ id, error }`. Messages without an id are
 * notifications.
 */
export interface RpcChild {
  pid: number;
  proc: ChildProcess;
  call<T = unknown>(cmd: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export async function forkRpcChild(main: string, name: string): Promise<RpcChild> {
  const proc = fork(main, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 1;
  let exited = false;
  const exit = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  void exit.then(() => {
    exited = true;
    for (const w of waiting.values()) w.reject(new Error(`${name} exited`));
    waiting.clear();
  });
  proc.on('message', (m: { id?: number; result?: unknown; error?: string }) => {
    const w = m.id === undefined ? undefined : waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id!);
    if (m.error !== undefined) w.reject(new Error(`${name}: ${m.error}`));
    else w.resolve(m.result);
  });
  const child: RpcChild = {
    pid: proc.pid!,
    proc,
    call<T>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 600_000) {
      if (exited) return Promise.reject(new Error(`${name} has exited`));
      const id = next++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`${name}: ${cmd} got no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(id, {
          resolve: (v) => (clearTimeout(timer), resolve(v as T)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        proc.send({ id, cmd, ...args });
      });
    },
    async close() {
      if (exited) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exit;
      clearTimeout(timer);
    },
  };
  await child.call('ping', {}, 30_000);
  return child;
}

/** The child side: answers requests with `handlers[cmd](message)`. */
export function serveRpc(handlers: Record<string, (msg: any) => unknown>): void {
  const answer = async (m: { id: number; cmd: string }) => {
    const h = m.cmd === 'ping' ? () => 'pong' : handlers[m.cmd];
    try {
      if (!h) throw new Error(`unknown command ${m.cmd}`);
      process.send!({ id: m.id, result: await h(m) });
    } catch (err) {
      process.send!({ id: m.id, error: (err as Error)?.message ?? String(err) });
    }
  };
  process.on('message', (m: { id: number; cmd: string }) => void answer(m));
  process.on('disconnect', () => process.exit(0));
}
