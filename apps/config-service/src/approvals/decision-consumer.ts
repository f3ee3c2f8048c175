import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, JsMsg, nanos, NatsConnection } from 'nats';
import { APPLY_DECISIONS_CONSUMER, APPROVAL_DECIDED_SUBJECT, decodeDecision, ensureApprovalsStream, STREAM_APPROVALS } from '@app/approvals-contract';
import { loadEnv } from '@app/config';
import { consumerNotFound, InjectNats, LoopSession, SupervisedLoop } from '@app/messaging';
import { DecisionApplier } from './decision-applier';
import { countApplied } from './decision-metrics';

const MAX_RETRY_DELAY_MS = 30_000;

/**
 * Pulls decided approval requests from the durable consumer and acks each one only after its
 * change has committed; a failure is redelivered with a growing delay. Every config-service
 * instance pulls from the same consumer; the applier's idempotency makes a redelivery harmless.
 */
@Injectable()
export class DecisionConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DecisionConsumer.name);
  private readonly loop = new SupervisedLoop('approval-decisions', (s) => this.consume(s));

  constructor(
    @InjectNats() private readonly nc: NatsConnection,
    private readonly applier: DecisionApplier,
  ) {}

  onApplicationBootstrap(): void {
    // Not awaited: the loop retries until NATS answers; readiness shows it down until then.
    void this.loop.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.loop.stop();
  }

  private async consume(session: LoopSession): Promise<void> {
    await this.ensureConsumer();
    const consumer = await this.nc.jetstream().consumers.get(STREAM_APPROVALS, APPLY_DECISIONS_CONSUMER);
    if (session.stopping) return;
    const messages = await consumer.consume({ max_messages: 32, abort_on_missing_resource: true });
    session.onStop(() => messages.stop());
    session.ready();
    for await (const msg of messages) await this.handle(msg);
  }

  private async handle(msg: JsMsg): Promise<void> {
    const decision = decodeDecision(msg.data);
    if (!decision) {
      this.logger.error(`dropping an unreadable approval decision (stream sequence ${msg.seq})`);
      msg.term();
      return;
    }
    try {
      countApplied(await this.applier.apply(decision.request_id));
      msg.ack();
    } catch (err) {
      const delay = Math.min(MAX_RETRY_DELAY_MS, 1000 * 2 ** Math.min(msg.info.redeliveryCount - 1, 5));
      this.logger.warn(`applying approval request ${decision.request_id} failed, retrying in ${delay} ms: ${(err as Error).message}`);
      msg.nak(delay);
    }
  }

  private async ensureConsumer(): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    await ensureApprovalsStream(jsm, loadEnv().streamReplicas);
    try {
      await jsm.consumers.info(STREAM_APPROVALS, APPLY_DECISIONS_CONSUMER);
    } catch (err) {
      if (!consumerNotFound(err)) throw err;
      await jsm.consumers.add(STREAM_APPROVALS, {
        durable_name: APPLY_DECISIONS_CONSUMER,
        filter_subject: APPROVAL_DECIDED_SUBJECT,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(30_000),
        max_deliver: -1,
        max_ack_pending: 256,
      });
    }
  }
}
