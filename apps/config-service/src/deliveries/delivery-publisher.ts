import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { AppConfig } from '@app/config';
import { agreePartitions, deliveryMsgId, deliverySubject, DeliveryTask, ensureStreams, InjectNats, untilDone } from '@app/messaging';
import { partitionOf } from '@app/hashing';

/** Puts single delivery tasks (test sends) on the same path fan-out uses. */
@Injectable()
export class DeliveryPublisher implements OnApplicationBootstrap {
  private partitionCount?: Promise<number>;

  constructor(
    @InjectNats() private readonly nc: NatsConnection,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await untilDone('creating the streams', async () => ensureStreams(await this.nc.jetstreamManager(), this.config.streamReplicas));
  }

  partitions(): Promise<number> {
    this.partitionCount ??= agreePartitions(this.nc.jetstream(), this.config.partitions, this.config.streamReplicas).catch((err) => {
      this.partitionCount = undefined;
      throw err;
    });
    return this.partitionCount;
  }

  async publish(task: DeliveryTask): Promise<void> {
    const p = partitionOf(task.webhook_id, await this.partitions());
    await this.nc.jetstream().publish(deliverySubject(p), JSON.stringify(task), { msgID: deliveryMsgId(task.event_id, task.webhook_id) });
  }
}
