import 'reflect-metadata';
import { MikroORM } from '@mikro-orm/postgresql';
import { readConfig } from '../libs/config/src';
import { SecretBox } from '../libs/crypto/src';
import { createAccount, createToken, ormConfig } from '../libs/persistence/src';
import { fail, parseArgs } from './cli-args';
import { useDevSecretsKey } from './dev-secrets-key';
import { reencryptSecrets } from './secrets-reencrypt';

const USAGE = `usage:
  npm run admin -- account:create --name <name>
  npm run admin -- token:create --account <account id> --user <user> --roles developer,approver,entity_manager,operator
  npm run admin -- secrets:reencrypt [--batch 100]     (seal every stored secret again under SECRETS_KEY)`;

const COMMANDS = ['account:create', 'token:create', 'secrets:reencrypt'];

/** Operator CLI: prints one JSON object on stdout. */
async function main(): Promise<void> {
  const { command, flags } = parseArgs(process.argv.slice(2));
  if (!COMMANDS.includes(command ?? '')) fail(USAGE);
  let config;
  try {
    if (command === 'secrets:reencrypt') useDevSecretsKey({ create: false });
    config = readConfig();
  } catch (err) {
    fail((err as Error).message);
  }
  const orm = await MikroORM.init(ormConfig(config.databaseUrl, { poolMax: 1 }));
  try {
    const em = orm.em.fork();
    let out: object;
    if (command === 'account:create') out = await createAccount(em, flags.name ?? '');
    else if (command === 'token:create') out = await createToken(em, flags.account ?? '', flags.user ?? '', (flags.roles ?? '').split(',').filter(Boolean));
    else {
      if (!config.secretsKey) fail('SECRETS_KEY is required (the key to seal under; earlier keys in SECRETS_KEY_PREVIOUS)');
      const batch = Number(flags.batch ?? 100);
      if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) fail('--batch must be an integer from 1 to 10000');
      out = await reencryptSecrets(orm, new SecretBox(config.secretsKey, config.previousSecretsKeys), batch);
      if ((out as { failed: string[] }).failed.length) process.exitCode = 1;
    }
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } catch (err) {
    fail((err as Error).message);
  } finally {
    await orm.close(true);
  }
}

void main();
