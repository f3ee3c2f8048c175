import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import type { DeliveriesRepository, DeliveryAttemptsRepository } from '@app/persistence';
import type { Database } from '../database';
import type { DeliveryDispatcher } from './delivery-dispatcher';
import type { DeliveryItem } from './delivery-item';
import { DeliveryRecorder } from './delivery-recorder';
import { PartitionConsumers, RECORDER_BACKLOG_MAX } from './partition-consumers';

const task = () => ({ event_id: randomUUID(), webhook_id: randomUUID(), account_id: randomUUID(), type: 'identity.approved', time: new Date().toISOString(), is_test: false });

describe('PartitionConsumers while outcomes cannot be recorded', () => {
  beforeAll(() => Logger.overrideLogger(['error']));

  it('hands task messages back (nak, a few seconds) instead of taking them while the recorder is behind, and takes them again once it has caught up', () => {
    const admitted: DeliveryItem[] = [];
    const dispatcher = {
      admit: (item: DeliveryItem) => (admitted.push(item), 'queued'),
      holds: () => false,
      reserve: () => undefined,
      unreserve: () => undefined,
    } as unknown as DeliveryDispatcher;
    const recorder = { backlog: RECORDER_BACKLOG_MAX } as unknown as DeliveryRecorder;
    let checked!: (rows: unknown[]) => void;
    const deliveries = { waitingForTask: () => new Promise((resolve) => (checked = resolve)) } as unknown as DeliveriesRepository;
    const consumers = new PartitionConsumers({} as NatsConnection, dispatcher, deliveries, recorder);
    const inside = consumers as unknown as { running: Map<number, unknown>; take(partition: number, msg: unknown): void };
    inside.running.set(0, {});
    const naks: (number | undefined)[] = [];
    let acks = 0;
    const message = (seq: number, redelivered = false) => ({
      seq,
      subject: 'deliveries.0',
      redelivered,
      data: Buffer.from(JSON.stringify({ tasks: [task(), task()] })),
      nak: (delay?: number) => void naks.push(delay),
      ack: () => void acks++,
      term: () => undefined,
      working: () => undefined,
    });
    try {
      inside.take(0, message(1));
      expect(naks).toEqual([5000]);
      expect(admitted).toHaveLength(0);
      (recorder as { backlog: number }).backlog = RECORDER_BACKLOG_MAX - 1;
      inside.take(0, message(2));
      expect(admitted.map((i) => i.partition)).toEqual([0, 0]);
      expect(naks).toHaveLength(1);
      expect(acks).toBe(0); // acked once both outcomes are recorded
      // A message handed back comes back redelivered and is checked against the database first:
      // its tasks count while they are checked, so the gate cannot let a whole ack window through.
      (recorder as { backlog: number }).backlog = RECORDER_BACKLOG_MAX - 2;
      inside.take(0, message(3, true));
      expect(naks).toHaveLength(1);
      inside.take(0, message(4));
      expect(naks).toEqual([5000, 5000]);
      checked([]);
    } finally {
      consumers.onApplicationShutdown();
    }
  });
});

describe('DeliveryRecorder backlog', () => {
  it('counts what is queued and the batch being written, until it is written', async () => {
    let write!: () => void;
    const repository = { recordAttemptBatch: () => new Promise<void>((resolve) => (write = resolve)) } as unknown as DeliveryAttemptsRepository;
    const recorder = new DeliveryRecorder({} as Database, repository, { id: 'node-1' });
    const item = { task: task(), partition: 0, attemptsBefore: 0, settle: () => undefined, release: () => undefined };
    const done = Promise.all([recorder.state(item, 'PENDING', new Date()), recorder.state({ ...item, task: task() }, 'PENDING', new Date())]);
    expect(recorder.backlog).toBe(2);
    const deadline = Date.now() + 5000;
    while (!write && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(recorder.backlog).toBe(2); // being written
    write();
    await done;
    expect(recorder.backlog).toBe(0);
  });
});
