import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '@app/config';

/** This node's stable id: NODE_ID, else generated at start. */
@Injectable()
export class NodeIdentity {
  readonly id: string;

  constructor(config: AppConfig) {
    this.id = config.nodeId ?? `node-${randomUUID().slice(0, 8)}`;
  }
}
