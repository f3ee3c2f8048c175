import 'reflect-metadata';
import { MikroORM } from '@mikro-orm/postgresql';
import { MAX_PARTITIONS, PlatformEnv, readConfig } from '../libs/config/src';
import { SecretBox } from '../libs/crypto/src';
import { connectNats, repartitionCluster } from '../libs/messaging/src';
import { createAccount, createToken, ormConfig, repartitionDeliveries } from '../libs/persistence/src';
import { fail, parseArgs } from './cli-args';
import { useDevSecretsKey } from './dev-secrets-key';
import { reencryptSecrets } from './secrets-reencrypt';

const USAGE = `usage:
  npm run admin -- account:create --name <name>
  npm run admin -- token:create --account <account id> --user <user> --roles developer,approver,entity_manager,operator
  npm run admin -- cluster:repartition --partitions <1..8192> [--routing partition|node]   (every delivery node stopped)
  npm run admin -- secrets:reencrypt [--batch 100]     (seal every stored secret again under SECRETS_KEY)`;

const COMMANDS = ['account:create', 'token:create', 'cluster:repartition', 'secrets:reencrypt'];

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
    else if (command === 'cluster:repartition') out = await repartition(config, Number(flags.partitions), flags.routing, (p) => repartitionDeliveries(em, p));
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

/** Moves a stopped cluster to a new partition count (see repartitionCluster). */
async function repartition(env: PlatformEnv, partitions: number, routing: string | undefined, moveRows: (p: number) => Promise<number>): Promise<object> {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) throw new Error(`--partitions must be an integer in 1..${MAX_PARTITIONS}`);
  if (routing !== undefined && routing !== 'partition' && routing !== 'node') throw new Error('--routing must be partition or node');
  const nc = await connectNats(env.natsUrl, 'admin', env.nats);
  try {
    return await repartitionCluster(nc, partitions, moveRows, env.streamReplicas, routing);
  } finally {
    await nc.close();
  }
}

void main();
