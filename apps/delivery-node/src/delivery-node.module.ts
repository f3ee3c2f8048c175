import { DynamicModule, Module, OnModuleInit } from '@nestjs/common';
import { AppConfigModule, LoggingModule, type PlatformEnv } from '@app/config';
import { SecretsModule } from '@app/crypto';
import { ObservabilityModule, Readiness } from '@app/http-common';
import { LoopsReadiness, NatsModule, NatsReadiness } from '@app/messaging';
import { AccountsRepository, DeliveriesRepository, DeliveryAttemptsRepository, EventsRepository, WebhooksRepository } from '@app/persistence';
import { Database } from './database';
import { DeliveryMetrics } from './delivery-metrics';
import { DeliveryNodeService } from './delivery-node.service';
import { NodeSendBudget, SendBudget } from './delivery/send-budget';
import { DeliveryDispatcher } from './delivery/delivery-dispatcher';
import { DeliveryExecutor } from './delivery/delivery-executor';
import { DeliveryRecorder } from './delivery/delivery-recorder';
import { PartitionConsumers } from './delivery/partition-consumers';
import { RetryScanner } from './delivery/retry-scanner';
import { DeliveryReconciler } from './delivery/delivery-reconciler';
import { EventFanout } from './fanout/event-fanout';
import { FanoutAudit } from './fanout/fanout-audit';
import { FanoutConsumer } from './fanout/fanout.consumer';
import { FanoutService } from './fanout/fanout.service';
import { TaskRouter } from './fanout/task-router';
import { MailboxJanitor } from './delivery/mailbox-janitor';
import { NodeIdentity } from './node-identity';
import { NodeLoad } from './ownership/node-load';
import { OwnershipFence, PARTITION_FENCE } from './ownership/partition-fence';
import { WebhookIndex } from './webhook-index/webhook-index';
import { WebhookIndexWatcher } from './webhook-index/webhook-index.watcher';

@Module({
  imports: [LoggingModule, NatsModule, ObservabilityModule.forRoot({ readiness: [NatsReadiness, LoopsReadiness] }), SecretsModule],
  providers: [
    Database,
    // Every table the node reads or writes, through its repository: no SQL elsewhere in the node.
    { provide: AccountsRepository, useFactory: (db: Database) => new AccountsRepository(db), inject: [Database] },
    { provide: WebhooksRepository, useFactory: (db: Database) => new WebhooksRepository(db), inject: [Database] },
    { provide: DeliveriesRepository, useFactory: (db: Database) => new DeliveriesRepository(db), inject: [Database] },
    { provide: EventsRepository, useFactory: (db: Database, deliveries: DeliveriesRepository) => new EventsRepository(db, deliveries), inject: [Database, DeliveriesRepository] },
    { provide: DeliveryAttemptsRepository, useFactory: (db: Database) => new DeliveryAttemptsRepository(db), inject: [Database] },
    NodeIdentity,
    DeliveryMetrics,
    { provide: WebhookIndex, useValue: new WebhookIndex() },
    WebhookIndexWatcher,
    FanoutService,
    TaskRouter,
    MailboxJanitor,
    EventFanout,
    FanoutConsumer,
    FanoutAudit,
    OwnershipFence,
    NodeLoad,
    { provide: PARTITION_FENCE, useExisting: OwnershipFence },
    DeliveryExecutor,
    DeliveryRecorder,
    NodeSendBudget,
    { provide: SendBudget, useExisting: NodeSendBudget },
    DeliveryDispatcher,
    PartitionConsumers,
    RetryScanner,
    DeliveryReconciler,
    DeliveryNodeService,
  ],
  exports: [DeliveryNodeService, DeliveryExecutor, NodeIdentity],
})
export class DeliveryNodeModule implements OnModuleInit {
  /** The node with its configuration, validated once by the caller. */
  static forConfig(config: PlatformEnv): DynamicModule {
    return { module: DeliveryNodeModule, imports: [AppConfigModule.forConfig(config)] };
  }

  constructor(
    private readonly readiness: Readiness,
    private readonly db: Database,
    private readonly node: DeliveryNodeService,
  ) {}

  onModuleInit(): void {
    this.readiness.register('database', () => this.db.query('select 1'));
    this.readiness.register('delivery', () => {
      if (!this.node.ready) throw new Error('starting');
    });
  }
}
