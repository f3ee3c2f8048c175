import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { AppConfig } from '@app/config';
import {
  agreePartitions,
  DEFAULT_TASK_ROUTING,
  defaultPartitions,
  deliveryMsgId,
  deliverySubject,
  DeliveryTask,
  ensureStreams,
  InjectNats,
  readTaskRouting,
  untilDone,
} from '@app/messaging';
import { partitionOf } from '@app/hashing';

/**
 * Puts single delivery tasks (test sends) on the same path fan-out uses with partition routing. With
 * node routing it does not know which node holds the partition right now: the caller makes the row
 * due instead, and the holder's retry scanner sends it within a second.
 */
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
    // A cluster no delivery node has started yet gets the default count of the default routing.
    this.partitionCount ??= readTaskRouting(this.nc.jetstream(), this.config.streamReplicas)
      .then((routing) => agreePartitions(this.nc.jetstream(), this.config.partitions, this.config.streamReplicas, defaultPartitions(routing ?? DEFAULT_TASK_ROUTING)))
      .catch((err) => {
        this.partitionCount = undefined;
        throw err;
      });
    return this.partitionCount;
  }

  /** True once the task is in the stream; false when the cluster routes by node, or no node has said yet (see above). */
  async publish(task: DeliveryTask): Promise<boolean> {
    // Read each time (one KV get per test send): the first delivery node records it.
    if ((await readTaskRouting(this.nc.jetstream(), this.config.streamReplicas)) !== 'partition') return false;
    const p = partitionOf(task.webhook_id, await this.partitions());
    await this.nc.jetstream().publish(deliverySubject(p), JSON.stringify(task), { msgID: deliveryMsgId(task.event_id, task.webhook_id) });
    return true;
  }
}
