import { Account } from './account.entity';
import { ApiToken } from './api-token.entity';
import { Webhook } from './webhook.entity';
import { OutboxEntry } from './outbox-entry.entity';
import { ApprovalPolicy } from './approval-policy.entity';
import { ApprovalRequest } from './approval-request.entity';
import { ApprovalDecision } from './approval-decision.entity';
import { WebhookApprovalApplication } from './webhook-approval-application.entity';

export { Account, ApiToken, Webhook, OutboxEntry };
export { ApprovalPolicy, ApprovalRequest, ApprovalDecision, WebhookApprovalApplication };
export type { ApplicationOutcome } from './webhook-approval-application.entity';
export const ENTITIES = [Account, ApiToken, Webhook, OutboxEntry, ApprovalPolicy, ApprovalRequest, ApprovalDecision, WebhookApprovalApplication];
