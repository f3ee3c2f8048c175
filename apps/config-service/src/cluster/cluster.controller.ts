import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRoles } from '@app/auth';
import { ApiAuthenticatedProblems } from '@app/http-common';
import { ClusterResponse } from './cluster.dto';
import { ClusterStatusService, ClusterView } from './cluster-status.service';

@ApiTags('cluster')
@ApiBearerAuth()
@Controller('v2/cluster')
@RequireRoles('operator')
@ApiAuthenticatedProblems()
export class ClusterController {
  constructor(private readonly cluster: ClusterStatusService) {}

  @Get()
  @ApiOperation({ summary: 'Delivery cluster: live nodes, partition leases (owner, age) and lag per partition (operator role)' })
  @ApiOkResponse({ type: ClusterResponse })
  status(): Promise<ClusterView> {
    return this.cluster.status();
  }
}
