import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository's git-ignored development key file (scripts run from dist/scripts). */
export const DEV_SECRETS_KEY_FILE = join(__dirname, '..', '..', '.dev', 'secrets.key');

/**
 * For `npm start` and the admin CLI on a development machine: when SECRETS_KEY is unset (and
 * NODE_ENV is not production), use the key in `.dev/secrets.key`, generating it once (`create`).
 * Sets process.env.SECRETS_KEY, so child processes get it; returns a line to print, or undefined.
 */
export function useDevSecretsKey(opts: { create: boolean }): string | undefined {
  if (process.env.SECRETS_KEY || process.env.NODE_ENV === 'production') return undefined;
  if (existsSync(DEV_SECRETS_KEY_FILE)) {
    process.env.SECRETS_KEY = readFileSync(DEV_SECRETS_KEY_FILE, 'utf8').trim();
    return undefined;
  }
  if (!opts.create) return undefined;
  mkdirSync(join(DEV_SECRETS_KEY_FILE, '..'), { recursive: true, mode: 0o700 });
  writeFileSync(DEV_SECRETS_KEY_FILE, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  process.env.SECRETS_KEY = readFileSync(DEV_SECRETS_KEY_FILE, 'utf8').trim();
  return `no SECRETS_KEY set: generated a development key in .dev/secrets.key (git-ignored; used by later starts too). Production sets SECRETS_KEY itself.`;
}
