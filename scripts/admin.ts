import 'reflect-metadata';
import { MikroORM } from '@mikro-orm/postgresql';
import { loadEnv } from '../libs/config/src';
import { createAccount, createToken, ormConfig } from '../libs/persistence/src';
import { fail, parseArgs } from './cli-args';

const USAGE = `usage:
  npm run admin -- account:create --name <name>
  npm run admin -- token:create --account <account id> --user <user> --roles developer,approver,entity_manager,operator`;

/** Operator CLI: prints one JSON object on stdout. */
async function main(): Promise<void> {
  const { command, flags } = parseArgs(process.argv.slice(2));
  if (command !== 'account:create' && command !== 'token:create') fail(USAGE);
  const orm = await MikroORM.init(ormConfig(loadEnv().databaseUrl, { poolMax: 1 }));
  try {
    const em = orm.em.fork();
    const out =
      command === 'account:create'
        ? await createAccount(em, flags.name ?? '')
        : await createToken(em, flags.account ?? '', flags.user ?? '', (flags.roles ?? '').split(',').filter(Boolean));
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } catch (err) {
    fail((err as Error).message);
  } finally {
    await orm.close(true);
  }
}

void main();
