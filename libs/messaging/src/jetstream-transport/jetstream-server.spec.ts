import { Controller, INestMicroservice, Logger, Module, UseFilters } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessageHandler, Payload } from '@nestjs/microservices';
import { AckPolicy, connect, JetStreamManager, nanos, NatsConnection, StringCodec } from 'nats';
import { Observable } from 'rxjs';
import { eventually, startNatsServer, TestNatsServer } from '@app/testing';
import { JetStreamContext } from './jetstream-context';
import { JetStreamBinding, JetStreamServer } from './jetstream-server';
import { RethrowRpcErrors } from './rethrow-rpc-errors.filter';

const sc = StringCodec();

describe('JetStreamServer (real nats-server)', () => {
  let nats: TestNatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const servers: JetStreamServer[] = [];
  let n = 0;

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    jsm = await nc.jetstreamManager();
  });

  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.dispose();
  });

  /** A fresh stream and binding per test; `ack_wait` short so a lost ack is redelivered quickly. */
  async function binding(extra: Partial<JetStreamBinding> = {}, ackWaitMs = 30_000): Promise<JetStreamBinding> {
    const i = ++n;
    const stream = `T${i}`;
    await jsm.streams.add({ name: stream, subjects: [`t${i}.>`] });
    return {
      pattern: `t${i}.work`,
      stream,
      consumer: `worker-${i}`,
      loop: `test-${i}`,
      ensure: async (m) => {
        if (await m.consumers.info(stream, `worker-${i}`).catch(() => undefined)) return;
        await m.consumers.add(stream, { durable_name: `worker-${i}`, ack_policy: AckPolicy.Explicit, ack_wait: nanos(ackWaitMs), max_deliver: -1, max_ack_pending: 16 });
      },
      ...extra,
    };
  }

  function serve(conn: NatsConnection, b: JetStreamBinding, handler: MessageHandler): JetStreamServer {
    const server = new JetStreamServer(conn, [b], { minBackoffMs: 100 });
    server.addHandler(b.pattern, handler, true);
    servers.push(server);
    server.listen((err) => {
      if (err) throw err as Error;
    });
    return server;
  }

  const info = (b: JetStreamBinding) => jsm.consumers.info(b.stream, b.consumer);
  const publish = (b: JetStreamBinding, text: string) => nc.jetstream().publish(b.pattern, sc.encode(text));

  it('acks only after the handler has committed', async () => {
    const b = await binding();
    const committed: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = false;
    serve(nc, b, async (data: Uint8Array) => {
      started = true;
      await gate;
      committed.push(sc.decode(data));
    });
    await publish(b, 'one');
    await eventually(() => started, { what: 'handler started' });
    // Running, not committed: the message is delivered and unacknowledged.
    expect(await info(b)).toMatchObject({ num_ack_pending: 1, ack_floor: expect.objectContaining({ stream_seq: 0 }) });
    release();
    await eventually(async () => (await info(b)).ack_floor.stream_seq === 1, { what: 'acked' });
    expect(committed).toEqual(['one']);
    expect((await info(b)).num_ack_pending).toBe(0);
  });

  it('acks an observable handler only once the observable completes', async () => {
    const b = await binding();
    let complete!: () => void;
    serve(
      nc,
      b,
      async () =>
        new Observable<number>((sub) => {
          sub.next(1);
          complete = () => sub.complete();
        }),
    );
    await publish(b, 'x');
    await eventually(() => complete !== undefined, { what: 'observable subscribed' });
    expect((await info(b)).num_ack_pending).toBe(1);
    complete();
    await eventually(async () => (await info(b)).ack_floor.stream_seq === 1, { what: 'acked after completion' });
  });

  it('naks a failure with the configured delay and never terminates the message', async () => {
    const b = await binding({ retryDelayMs: (count) => 400 * count });
    const seen: { count: number; at: number }[] = [];
    serve(nc, b, async (_data: Uint8Array, ctx: JetStreamContext) => {
      seen.push({ count: ctx.getDeliveryCount(), at: Date.now() });
      if (ctx.getDeliveryCount() < 4) throw new Error('database said no');
    });
    await publish(b, 'stubborn');
    await eventually(async () => (await info(b)).ack_floor.stream_seq === 1, { what: 'acked after 3 failures', timeoutMs: 20_000 });
    expect(seen.map((s) => s.count)).toEqual([1, 2, 3, 4]);
    // Each redelivery waited at least the delay the nak asked for (400, 800, 1200 ms).
    for (let i = 1; i < seen.length; i++) expect(seen[i].at - seen[i - 1].at).toBeGreaterThanOrEqual(400 * i - 50);
  });

  it('a crash between commit and ack redelivers the message; an idempotent handler applies it once', async () => {
    const b = await binding({}, 1000);
    const applied = new Map<string, number>();
    let calls = 0;
    const crashing = await connect({ servers: nats.url });
    const first = serve(crashing, b, async (data: Uint8Array) => {
      calls++;
      const id = sc.decode(data);
      if (!applied.has(id)) applied.set(id, 1); // the commit, keyed by id
      await crashing.close(); // the process dies before its ack leaves
    });
    await publish(b, 'request-1');
    await eventually(() => crashing.isClosed(), { what: 'first process crashed after its commit' });
    await first.close();
    expect(applied.get('request-1')).toBe(1);

    serve(nc, b, async (data: Uint8Array) => {
      calls++;
      const id = sc.decode(data);
      if (!applied.has(id)) applied.set(id, 1);
    });
    await eventually(async () => (await info(b)).ack_floor.stream_seq === 1, { what: 'redelivered and acked', timeoutMs: 20_000 });
    expect(calls).toBeGreaterThanOrEqual(2); // redelivered at least once after the crash
    expect([...applied]).toEqual([['request-1', 1]]);
  });

  it('restarts its consumer when it disappears, and recreates it', async () => {
    const b = await binding();
    const got: string[] = [];
    serve(nc, b, async (data: Uint8Array) => void got.push(sc.decode(data)));
    await publish(b, 'before');
    await eventually(() => got.length === 1, { what: 'first message' });
    await jsm.consumers.delete(b.stream, b.consumer);
    await eventually(async () => (await info(b).catch(() => undefined)) !== undefined, { what: 'consumer recreated', timeoutMs: 20_000 });
    await publish(b, 'after');
    await eventually(() => got.includes('after'), { what: 'message after restart', timeoutMs: 20_000 });
  });

  it('serves a Nest controller handler and hands it the real error', async () => {
    const b = await binding({ retryDelayMs: () => 200 });
    const calls: { text: string; count: number }[] = [];

    @Controller()
    class WorkController {
      @EventPattern(b.pattern)
      @UseFilters(RethrowRpcErrors)
      async work(@Payload() data: Uint8Array, @Ctx() ctx: JetStreamContext): Promise<void> {
        calls.push({ text: sc.decode(data), count: ctx.getDeliveryCount() });
        if (ctx.getDeliveryCount() === 1) throw new Error('first try fails');
      }
    }
    @Module({ controllers: [WorkController] })
    class WorkModule {}

    const server = new JetStreamServer(nc, [b], { minBackoffMs: 100 });
    const warn = jest.spyOn((server as unknown as { log: Logger }).log, 'warn').mockImplementation(() => undefined);
    const app: INestMicroservice = await NestFactory.createMicroservice(WorkModule, { strategy: server, logger: ['error'] });
    await app.listen();
    try {
      await publish(b, 'via-nest');
      await eventually(async () => (await info(b)).ack_floor.stream_seq === 1, { what: 'acked via Nest', timeoutMs: 20_000 });
      expect(calls).toEqual([
        { text: 'via-nest', count: 1 },
        { text: 'via-nest', count: 2 },
      ]);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('first try fails'));
    } finally {
      await app.close();
    }
  });
});
