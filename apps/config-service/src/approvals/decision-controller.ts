import { Controller, Logger, UseFilters } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { APPROVAL_DECIDED_SUBJECT, decodeDecision } from '@app/approvals-contract';
import { AppConfig } from '@app/config';
import { JetStreamContext, RethrowRpcErrors } from '@app/messaging';
import { DecisionApplier } from './decision-applier';
import { DecisionMetrics } from './decision-metrics';

/**
 * Decided approval requests from the approval service (JetStream, see DecisionTransport). Returning
 * acks the message (after the applier committed); throwing naks it with a growing delay. From the
 * APPROVAL_APPLY_MAX_ATTEMPTS-th delivery on, a failure that is not an outage ends the change in
 * ERROR instead of being retried forever.
 */
@Controller()
export class DecisionController {
  private readonly logger = new Logger('ApprovalDecisions');
  private readonly maxAttempts: number;

  constructor(
    private readonly applier: DecisionApplier,
    private readonly metrics: DecisionMetrics,
    config: AppConfig,
  ) {
    this.maxAttempts = config.approvalApplyMaxAttempts;
  }

  @EventPattern(APPROVAL_DECIDED_SUBJECT)
  @UseFilters(RethrowRpcErrors)
  async decided(@Payload() data: Uint8Array, @Ctx() ctx: JetStreamContext): Promise<void> {
    const decision = decodeDecision(data);
    if (!decision) {
      // Acked and dropped: no retry can make it readable.
      this.logger.error(`dropping an unreadable approval decision (stream sequence ${ctx.getMessage().seq})`);
      return;
    }
    const attempt = ctx.getDeliveryCount();
    this.metrics.countApplied(await this.applier.apply(decision.request_id, { attempt, last: attempt >= this.maxAttempts }));
  }
}
