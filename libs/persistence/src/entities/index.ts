import { Account } from './account.entity';
import { ApiToken } from './api-token.entity';
import { Webhook } from './webhook.entity';
import { OutboxEntry } from './outbox-entry.entity';

export { Account, ApiToken, Webhook, OutboxEntry };
export const ENTITIES = [Account, ApiToken, Webhook, OutboxEntry];
