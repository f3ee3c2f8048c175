export * from './approval-types';
export * from './names';
export * from './decision-message';
export * from './approvals-stream';
