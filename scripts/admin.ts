import 'reflect-metadata';
import { MikroORM } from '@mikro-orm/postgresql';
import { loadEnv } from '../libs/config/src';
import { connectNats, repartitionCluster } from '../libs/messaging/src';
import { createAccount, createToken, ormConfig, repartitionDeliveries } from '../libs/persistence/src';
import { fail, parseArgs } from './cli-args';

const USAGE = `usage:
  npm run admin -- account:create --name <name>
  npm run admin -- token:create --account <account id> --user <user> --roles developer,approver,entity_manager,operator
  npm run admin -- cluster:repartition --partitions <1..1024>   (every delivery node stopped)`;

const COMMANDS = ['account:create', 'token:create', 'cluster:repartition'];

/** Operator CLI: prints one JSON object on stdout. */
async function main(): Promise<void> {
  const { command, flags } = parseArgs(process.argv.slice(2));
  if (!command || !COMMANDS.includes(command)) fail(USAGE);
  const orm = await MikroORM.init(ormConfig(loadEnv().databaseUrl, { poolMax: 1 }));
  try {
    const em = orm.em.fork();
    const out =
      command === 'account:create'
        ? await createAccount(em, flags.name ?? '')
        : command === 'token:create'
          ? await createToken(em, flags.account ?? '', flags.user ?? '', (flags.roles ?? '').split(',').filter(Boolean))
          : await repartition(Number(flags.partitions), (p) => repartitionDeliveries(em, p));
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } catch (err) {
    fail((err as Error).message);
  } finally {
    await orm.close(true);
  }
}

/** Moves a stopped cluster to a new partition count (see repartitionCluster). */
async function repartition(partitions: number, moveRows: (p: number) => Promise<number>): Promise<object> {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1024) throw new Error('--partitions must be an integer in 1..1024');
  const env = loadEnv();
  const nc = await connectNats(env.natsUrl, 'admin');
  try {
    return await repartitionCluster(nc, partitions, moveRows, env.streamReplicas);
  } finally {
    await nc.close();
  }
}

void main();
