import { Body, Controller, Delete, Get, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { Principal } from '@app/domain';
import { CurrentPrincipal, RequireRoles } from '@app/auth';
import { ApiAuthenticatedProblems, ApiProblems, PageQueryDto, pageLimit, UuidParam } from '@app/http-common';
import { CreateWebhookDto, UpdateWebhookDto, WebhookListResponse, WebhookResponse } from './webhook.dto';
import { WebhooksService } from './webhooks.service';
import type { WebhookView } from './webhook-view';

@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('v2/webhooks')
@RequireRoles('developer')
@ApiAuthenticatedProblems()
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({ summary: 'Create a webhook: 201, or 202 with status PENDING and pending_approval_id when approvals are on' })
  @ApiCreatedResponse({ type: WebhookResponse, description: 'created; `signing_secret` is shown this once' })
  @ApiAcceptedResponse({ type: WebhookResponse, description: 'awaits approval (status PENDING, pending_approval_id)' })
  @ApiProblems(409)
  async create(@CurrentPrincipal() p: Principal, @Body() dto: CreateWebhookDto, @Res({ passthrough: true }) res: Response): Promise<WebhookView> {
    const webhook = await this.webhooks.create(p, { ...dto, api_key: dto.api_key ?? null, oauth: dto.oauth ?? null });
    res.status(webhook.pending_approval_id ? 202 : 201);
    return webhook;
  }

  @Get()
  @ApiOperation({ summary: "List the account's webhooks" })
  @ApiOkResponse({ type: WebhookListResponse })
  list(@CurrentPrincipal() p: Principal, @Query() q: PageQueryDto) {
    return this.webhooks.list(p, pageLimit(q), q.page_cursor);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One webhook, with its approval history' })
  @ApiOkResponse({ type: WebhookResponse })
  @ApiProblems(404)
  get(@CurrentPrincipal() p: Principal, @Param('id', UuidParam) id: string) {
    return this.webhooks.get(p, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a webhook: 200, or 202 with status PENDING_UPDATE when approvals are on' })
  @ApiOkResponse({ type: WebhookResponse })
  @ApiAcceptedResponse({ type: WebhookResponse, description: 'awaits approval (status PENDING_UPDATE, pending_approval_id)' })
  @ApiProblems(404, 409)
  async update(
    @CurrentPrincipal() p: Principal,
    @Param('id', UuidParam) id: string,
    @Body() dto: UpdateWebhookDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<WebhookView> {
    const webhook = await this.webhooks.update(p, id, dto);
    res.status(webhook.pending_approval_id ? 202 : 200);
    return webhook;
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Delete a webhook: 204, or 202 with status PENDING_DELETION when approvals are on' })
  @ApiNoContentResponse({ description: 'deleted' })
  @ApiAcceptedResponse({ type: WebhookResponse, description: 'awaits approval (status PENDING_DELETION, pending_approval_id)' })
  @ApiProblems(404, 409)
  async remove(@CurrentPrincipal() p: Principal, @Param('id', UuidParam) id: string, @Res({ passthrough: true }) res: Response): Promise<WebhookView | void> {
    const pending = await this.webhooks.remove(p, id);
    res.status(pending ? 202 : 204);
    return pending ?? undefined;
  }
}
