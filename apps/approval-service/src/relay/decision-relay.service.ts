import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import type { NatsConnection } from 'nats';
import { APPROVAL_DECIDED_SUBJECT, ApprovalDecidedMessage, encodeDecision, ensureApprovalsStream } from '@app/approvals-contract';
import { AppConfig } from '@app/config';
import { ApprovalRequestsRepository } from '@app/persistence';
import { InjectNats, KickedLoop } from '@app/messaging';
import { RelayMetrics } from './relay-metrics';

const BATCH = 100;
const POLL_MS = 1000;

interface DecidedRow {
  id: string;
  account_id: string;
  webhook_id: string;
  action: ApprovalDecidedMessage['action'];
  status: ApprovalDecidedMessage['status'];
  decided_at: Date;
}

/**
 * Hands every concluded webhook request to the config service: publishes it to the APPROVALS
 * stream (`Nats-Msg-Id` = request id, so a re-publish after a crash is dropped by JetStream) and
 * only then marks it notified. Runs after each decision (kick) and on a timer, so a NATS outage
 * only delays application.
 */
@Injectable()
export class DecisionRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DecisionRelay.name);
  private ready = false;
  private readonly loop = new KickedLoop(
    () => this.drain(),
    POLL_MS,
    (err) => this.logger.warn(`decision relay failed, will retry: ${err.message}`),
    'decision-relay',
  );

  constructor(
    private readonly em: EntityManager,
    private readonly requests: ApprovalRequestsRepository,
    @InjectNats() private readonly nc: NatsConnection,
    private readonly config: AppConfig,
    private readonly metrics: RelayMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureStream().catch((err) => this.logger.warn(`APPROVALS stream not ready yet, will retry: ${err.message}`));
    this.loop.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.loop.stop();
  }

  /** Requests a relay pass; passes never overlap. */
  kick(): void {
    this.loop.kick();
  }

  private async drain(): Promise<void> {
    if (!this.ready) await this.ensureStream();
    while ((await this.relayBatch()) === BATCH);
  }

  private async ensureStream(): Promise<void> {
    await ensureApprovalsStream(await this.nc.jetstreamManager(), this.config.streamReplicas);
    this.ready = true;
  }

  /** Several approval-service instances can relay at once: each takes rows the others have not locked. */
  private relayBatch(): Promise<number> {
    return this.em.fork().transactional(async (em) => {
      const rows = await this.requests.lockUnnotifiedConcluded<DecidedRow>(BATCH, em);
      if (!rows.length) return 0;
      const js = this.nc.jetstream();
      await Promise.all(
        rows.map((r) =>
          js.publish(
            APPROVAL_DECIDED_SUBJECT,
            encodeDecision({
              request_id: r.id,
              account_id: r.account_id,
              webhook_id: r.webhook_id,
              action: r.action,
              status: r.status,
              decided_at: new Date(r.decided_at).toISOString(),
            }),
            { msgID: r.id },
          ),
        ),
      );
      await this.requests.markNotified(
        rows.map((r) => r.id),
        em,
      );
      this.metrics.countRelayed(rows.length);
      return rows.length;
    });
  }
}
