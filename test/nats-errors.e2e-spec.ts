import { alreadyExists, consumerNotFound, jetStreamErrorCode, streamNotFound, wrongLastSequence } from '@app/messaging';
import { useHarness } from './support/harness';

/** The JetStream error helpers against a real server: each error known by its code. */
describe('JetStream error codes', () => {
  const h = useHarness({ nats: true });

  const failure = (p: Promise<unknown>, what = 'the call') =>
    p.then(
      () => {
        throw new Error(`expected ${what} to fail`);
      },
      (err: unknown) => err,
    );

  it('tells a missing stream and consumer, a stream made by someone else, and a lost KV race', async () => {
    const jsm = await h.nc.jetstreamManager();
    const missingStream = await failure(jsm.streams.info('NOPE'));
    expect(streamNotFound(missingStream)).toBe(true);
    expect(alreadyExists(missingStream)).toBe(false);

    await jsm.streams.add({ name: 'ERR', subjects: ['err.>'] });
    expect(alreadyExists(await failure(jsm.streams.add({ name: 'ERR', subjects: ['other.>'] })))).toBe(true);

    const missingConsumer = await failure(jsm.consumers.info('ERR', 'nope'));
    expect(consumerNotFound(missingConsumer)).toBe(true);
    expect(streamNotFound(missingConsumer)).toBe(false);

    const kv = await h.nc.jetstream().views.kv('err-kv');
    await kv.create('k', 'first');
    expect(wrongLastSequence(await failure(kv.create('k', 'second')))).toBe(true);
  });

  it('never judges by message text', () => {
    expect(jetStreamErrorCode(new Error('stream not found'))).toBeUndefined();
    expect(streamNotFound(new Error('stream not found'))).toBe(false);
    expect(alreadyExists(new Error('consumer name already in use'))).toBe(false);
    expect(wrongLastSequence(null)).toBe(false);
  });
});
