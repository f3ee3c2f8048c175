import { objectTypeOf } from '@app/domain';
import type { EventMessage } from '@app/messaging';

/** A valid event of `type` (an identity approval unless told) for an account, published now. */
export function testEvent(accountId: string, id: string, type = 'identity.approved', object: Record<string, unknown> = { identity_id: 'i-1' }): EventMessage {
  return { id, account_id: accountId, type, time: new Date().toISOString(), object_type: objectTypeOf(type)!, object };
}
