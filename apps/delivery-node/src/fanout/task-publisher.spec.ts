import { connect, NatsConnection } from 'nats';
import { startNatsServer, type TestNatsServer } from '../../../../libs/testing/src/nats-server';
import { TaskPublisher } from './task-publisher';

jest.setTimeout(30_000);

describe('TaskPublisher (a real nats-server)', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    await (await nc.jetstreamManager()).streams.add({ name: 'TASKS', subjects: ['tasks.>'], duplicate_window: 60_000_000_000 });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.dispose();
  });

  it('stores every message pipelined, once per Nats-Msg-Id, and says which one no stream took', async () => {
    const publisher = new TaskPublisher(nc);
    const batch = Array.from({ length: 300 }, (_, i) => ({ subject: `tasks.${i % 7}`, data: JSON.stringify({ i }), msgId: `m-${i}` }));
    expect((await publisher.publishAll(batch)).every((r) => r === null)).toBe(true);
    // A re-run after a crash before the ack: every message is a duplicate, acknowledged, not stored again.
    const again = await publisher.publishAll([...batch.slice(0, 10), { subject: 'nowhere.at.all', data: '{}', msgId: 'lost' }]);
    expect(again.slice(0, 10)).toEqual(Array(10).fill(null));
    expect(again[10]?.message).toMatch(/^503 /);
    const info = await (await nc.jetstreamManager()).streams.info('TASKS');
    expect(info.state.messages).toBe(300);
    expect(await publisher.publishAll([])).toEqual([]);
    publisher.close();
  });

  it('a stream that does not answer in time fails the messages of that batch, not the call', async () => {
    const publisher = new TaskPublisher(nc, 300);
    // A plain subscriber that never replies stands in for a stream that does not answer.
    const silent = nc.subscribe('silent.>');
    const res = await publisher.publishAll([{ subject: 'silent.x', data: '{}', msgId: 's1' }]);
    expect(res[0]?.message).toMatch(/no acknowledgement from the stream within 0.3 s/);
    silent.unsubscribe();
    publisher.close();
  });
});
