import { Module } from '@nestjs/common';
import { ClusterController } from './cluster.controller';
import { ClusterStatusService } from './cluster-status.service';

/** Operator view of the delivery cluster (GET /v2/cluster). */
@Module({
  controllers: [ClusterController],
  providers: [ClusterStatusService],
  exports: [ClusterStatusService],
})
export class ClusterModule {}
