import { ApiProperty } from '@nestjs/swagger';

/**
 * The cluster view, documented loosely: its content belongs to the cluster status service and
 * grows with it; these fields are the ones an operator reads first.
 */
export class ClusterResponse {
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true }, description: 'live delivery nodes, their partitions and heartbeat ages' })
  nodes!: Record<string, unknown>[];

  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true }, description: 'per partition: owner, lease age and consumer lag' })
  partition_leases!: Record<string, unknown>[];
}
