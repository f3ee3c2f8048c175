import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@app/domain';
import { CurrentPrincipal, RequireRoles } from '@app/auth';
import { ApiAuthenticatedProblems, ApiProblems, pageLimit, UuidParam } from '@app/http-common';
import { ApprovalListResponse, ApprovalResponse, ListApprovalsQueryDto } from './approval.dto';
import { ApprovalPage, ApprovalsService } from './approvals.service';
import type { ApprovalView } from './approval-view';

@ApiTags('approvals')
@ApiBearerAuth()
@Controller('v2/approvals')
@ApiAuthenticatedProblems()
export class ApprovalsController {
  constructor(private readonly approvals: ApprovalsService) {}

  @Get()
  @ApiOperation({ summary: "The account's approval requests, oldest first, cursor paged" })
  @ApiOkResponse({ type: ApprovalListResponse })
  list(@CurrentPrincipal() p: Principal, @Query() q: ListApprovalsQueryDto): Promise<ApprovalPage> {
    return this.approvals.list(p, { status: q.status, limit: pageLimit(q), cursor: q.page_cursor });
  }

  @Get(':id')
  @ApiOperation({ summary: 'One approval request' })
  @ApiOkResponse({ type: ApprovalResponse })
  @ApiProblems(404)
  get(@CurrentPrincipal() p: Principal, @Param('id', UuidParam) id: string): Promise<ApprovalView> {
    return this.approvals.get(p, id);
  }

  @Post(':id/approve')
  @HttpCode(200)
  @RequireRoles('approver')
  @ApiOperation({ summary: 'Approve; the requester never can. The change is applied once the required count is reached.' })
  @ApiOkResponse({ type: ApprovalResponse })
  @ApiProblems(404, 409)
  approve(@CurrentPrincipal() p: Principal, @Param('id', UuidParam) id: string): Promise<ApprovalView> {
    return this.approvals.approve(p, id);
  }

  @Post(':id/reject')
  @HttpCode(200)
  @RequireRoles('approver')
  @ApiOperation({ summary: 'Reject: the change is dropped' })
  @ApiOkResponse({ type: ApprovalResponse })
  @ApiProblems(404, 409)
  reject(@CurrentPrincipal() p: Principal, @Param('id', UuidParam) id: string): Promise<ApprovalView> {
    return this.approvals.reject(p, id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel: only the requester, only while pending' })
  @ApiOkResponse({ type: ApprovalResponse })
  @ApiProblems(404, 409)
  cancel(@CurrentPrincipal() p: Principal, @Param('id', UuidParam) id: string): Promise<ApprovalView> {
    return this.approvals.cancel(p, id);
  }
}
