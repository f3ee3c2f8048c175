import type { ChildProcess } from 'node:child_process';

/**
 * The exit code of a child process, once what it wrote before exiting has been read. A process's
 * 'exit' can come before the last chunks of its stdout/stderr ('close' comes after them); a test
 * that reads the output on 'exit' may miss the one line that says why it stopped. `close` is waited
 * for at most `graceMs`: a grandchild that inherited the pipes can hold them open.
 */
export function exitAfterOutput(proc: ChildProcess, graceMs = 5000): Promise<number | null> {
  return new Promise((resolve) =>
    proc.once('exit', (code) => {
      const timer = setTimeout(() => resolve(code), graceMs);
      proc.once('close', () => {
        clearTimeout(timer);
        resolve(code);
      });
    }),
  );
}
