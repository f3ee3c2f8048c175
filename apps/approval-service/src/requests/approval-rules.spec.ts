import { Conflict, Forbidden } from '@app/domain';
import { assertCanApprove, assertCanCancel, completesApproval, RequestState } from './approval-rules';

const req = (over: Partial<RequestState> = {}): RequestState => ({ status: 'PENDING', requestedBy: 'alice', requiredApprovals: 2, approvers: [], ...over });

describe('approval rules', () => {
  it('never lets the requester approve, even once the request is decided', () => {
    expect(() => assertCanApprove(req(), 'alice')).toThrow(Forbidden);
    expect(() => assertCanApprove(req({ status: 'APPROVED' }), 'alice')).toThrow(Forbidden);
  });

  it('counts each approver once and only while pending', () => {
    expect(() => assertCanApprove(req(), 'bob')).not.toThrow();
    expect(() => assertCanApprove(req({ approvers: ['bob'] }), 'bob')).toThrow(Conflict);
    expect(() => assertCanApprove(req({ status: 'REJECTED' }), 'bob')).toThrow(Conflict);
  });

  it('completes when the required count is reached', () => {
    expect(completesApproval(req())).toBe(false);
    expect(completesApproval(req({ approvers: ['bob'] }))).toBe(true);
    expect(completesApproval(req({ requiredApprovals: 1 }))).toBe(true);
  });

  it('lets only the requester cancel, only while pending', () => {
    expect(() => assertCanCancel(req(), 'bob')).toThrow(Forbidden);
    expect(() => assertCanCancel(req(), 'alice')).not.toThrow();
    expect(() => assertCanCancel(req({ status: 'CANCELLED' }), 'alice')).toThrow(Conflict);
  });
});
