import type { ApprovalStatus } from '@app/approvals-contract';
import { Conflict, Forbidden } from '@app/domain';

/** What the four-eyes rules need to know about a request; no storage or transport in here. */
export interface RequestState {
  status: ApprovalStatus;
  requestedBy: string;
  requiredApprovals: number;
  approvers: readonly string[];
}

export function assertPending(req: RequestState): void {
  if (req.status !== 'PENDING') throw new Conflict('approval-not-pending', `The request is ${req.status} and can no longer change.`, { status: req.status });
}

/** The requester can never approve its own request; each approver counts once. */
export function assertCanApprove(req: RequestState, user: string): void {
  if (req.requestedBy === user) throw new Forbidden('The requester cannot approve its own request.');
  assertPending(req);
  if (req.approvers.includes(user)) throw new Conflict('already-approved', 'You have already approved this request.');
}

export function assertCanCancel(req: RequestState, user: string): void {
  if (req.requestedBy !== user) throw new Forbidden('Only the requester can cancel a request.');
  assertPending(req);
}

/** True when one more approval (by a user not yet counted) reaches the count the request requires. */
export function completesApproval(req: RequestState): boolean {
  return req.approvers.length + 1 >= req.requiredApprovals;
}
