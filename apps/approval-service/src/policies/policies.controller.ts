import { Body, Controller, Get, Put, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { Principal } from '@app/domain';
import { CurrentPrincipal, RequireRoles } from '@app/auth';
import { ApiAuthenticatedProblems, ApiProblems } from '@app/http-common';
import { PolicyResponse, PutWebhookPolicyDto } from './policy.dto';
import { PoliciesService, PolicyView } from './policies.service';

@ApiTags('approval-policies')
@ApiBearerAuth()
@Controller('v2/approval-policies/webhooks')
@ApiAuthenticatedProblems()
export class PoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  @Get()
  @ApiOperation({ summary: "The account's approval policy for webhook changes" })
  @ApiOkResponse({ type: PolicyResponse })
  get(@CurrentPrincipal() p: Principal): Promise<PolicyView> {
    return this.policies.get(p);
  }

  @Put()
  @RequireRoles('entity_manager')
  @ApiOperation({ summary: 'Set the policy: 200 when applied, 202 with pending_approval_id when the change awaits approval' })
  @ApiOkResponse({ type: PolicyResponse })
  @ApiAcceptedResponse({ type: PolicyResponse, description: 'the change awaits approval' })
  @ApiProblems(409)
  async put(@CurrentPrincipal() p: Principal, @Body() dto: PutWebhookPolicyDto, @Res({ passthrough: true }) res: Response): Promise<PolicyView> {
    const policy = await this.policies.put(p, dto);
    res.status(policy.pending_approval_id ? 202 : 200);
    return policy;
  }
}
