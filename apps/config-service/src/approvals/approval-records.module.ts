import { Module } from '@nestjs/common';
import { ApprovalGate } from './approval-gate';
import { ApprovalHistory } from './approval-history';

/** What webhook use cases need of approvals: the policy gate and the history. */
@Module({ providers: [ApprovalGate, ApprovalHistory], exports: [ApprovalGate, ApprovalHistory] })
export class ApprovalRecordsModule {}
