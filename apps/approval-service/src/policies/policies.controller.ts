import { Body, Controller, Get, Put, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { Principal } from '@app/domain';
import { CurrentPrincipal, RequireRoles } from '@app/auth';
import { PutWebhookPolicyDto } from './policy.dto';
import { PoliciesService, PolicyView } from './policies.service';

@ApiTags('approval-policies')
@ApiBearerAuth()
@Controller('v2/approval-policies/webhooks')
export class PoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  @Get()
  @ApiOperation({ summary: "The account's approval policy for webhook changes" })
  get(@CurrentPrincipal() p: Principal): Promise<PolicyView> {
    return this.policies.get(p);
  }

  @Put()
  @RequireRoles('entity_manager')
  @ApiOperation({ summary: 'Set the policy: 200 when applied, 202 with pending_approval_id when the change awaits approval' })
  async put(@CurrentPrincipal() p: Principal, @Body() dto: PutWebhookPolicyDto, @Res({ passthrough: true }) res: Response): Promise<PolicyView> {
    const policy = await this.policies.put(p, dto);
    res.status(policy.pending_approval_id ? 202 : 200);
    return policy;
  }
}
