import { randomUUID } from 'node:crypto';
import { readConfig } from '../libs/config/src';
import { isKnownEventType, objectTypeOf } from '../libs/domain/src';
import { connectNats, ensureStreams, publishEvent } from '../libs/messaging/src';
import { fail, parseArgs } from './cli-args';

const USAGE = 'usage: npm run publish-event -- --account <account id> --type identity.approved [--count N] [--object \'{"k":"v"}\']';

/** Publishes sample events the way internal services do; prints {"event_ids": [...]} . */
async function main(): Promise<void> {
  const { flags } = parseArgs(process.argv.slice(2));
  const type = flags.type ?? '';
  if (!flags.account || !isKnownEventType(type)) fail(USAGE);
  const count = Number(flags.count ?? 1);
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000) fail('--count must be a positive integer');
  const object = flags.object ? JSON.parse(flags.object) : { id: randomUUID(), sample: true };
  const env = readConfig();
  const nc = await connectNats(env.natsUrl, 'publish-event', env.nats);
  try {
    await ensureStreams(await nc.jetstreamManager(), env.streamReplicas);
    const js = nc.jetstream();
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, count - i) }, () => ({
        id: randomUUID(),
        account_id: flags.account,
        type,
        time: new Date().toISOString(),
        object_type: objectTypeOf(type)!,
        object,
      }));
      await Promise.all(batch.map((e) => publishEvent(js, e)));
      ids.push(...batch.map((e) => e.id));
    }
    process.stdout.write(`${JSON.stringify(count === 1 ? { event_id: ids[0] } : { event_ids: ids })}\n`);
  } finally {
    await nc.drain();
  }
}

main().catch((err) => fail(err.message));
