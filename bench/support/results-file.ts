import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { loadAverage, machine } from './proc-stats';

function git(...args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '?';
  }
}

/**
 * Appends one run to a results file (history is kept; newest last): when, the commit (marked dirty
 * when the code differs from it), the machine, and the run's lines. `header` starts a new file.
 */
export function appendRun(file: string, what: string, lines: string[], header: string): void {
  const dirty = git('status', '--porcelain', '--untracked-files=no', '--', 'apps', 'libs', 'bench', 'package.json') ? ' (dirty)' : '';
  const m = machine();
  const section = [
    '',
    `## ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} — ${what}commit ${git('rev-parse', '--short', 'HEAD')}${dirty}, branch ${git('rev-parse', '--abbrev-ref', 'HEAD')}`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGb} GB RAM; Node ${process.version}; load average ${loadAverage()} when the run ended.`,
    '',
    '```',
    ...lines,
    '```',
    '',
  ].join('\n');
  if (!existsSync(file)) writeFileSync(file, header);
  appendFileSync(file, section);
  console.log(`(appended to ${file})`);
}
