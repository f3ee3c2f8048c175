import { Body, Controller, Delete, Get, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { Principal } from '@app/domain';
import { CurrentPrincipal, RequireRoles } from '@app/auth';
import { PageQueryDto, pageLimit, UuidParam } from '@app/http-common';
import { CreateWebhookDto, UpdateWebhookDto } from './webhook.dto';
import { WebhooksService } from './webhooks.service';
import type { WebhookView } from './webhook-view';

@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('v2/webhooks')
@RequireRoles('developer')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({ summary: 'Create a webhook: 201, or 202 with status PENDING and pending_approval_id when approvals are on' })
  async create(@CurrentPrincipal() p: Principal, @Body() dto: CreateWebhookDto, @Res({ passthrough: true }) res: Response): Promise<WebhookView> {
    const webhook = await this.webhooks.create(p, { ...dto, api_key: dto.api_key ?? null, oauth: dto.oauth ?? null });
    res.status(webhook.pending_approval_id ? 202 : 201);
    return webhook;
  }

  @Get()
  @ApiOperation({ summary: "List the account's webhooks" })
  list(@CurrentPrincipal() p: Principal, @Query() q: PageQueryDto) {
    return this.webhooks.list(p, pageLimit(q), q.page_cursor);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One webhook, with its approval history' })
  get(@CurrentPrincipal() p: Principal, @Param('id', UuidParam) id: string) {
    return this.webhooks.get(p, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a webhook: 200, or 202 with status PENDING_UPDATE when approvals are on' })
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
  async remove(@CurrentPrincipal() p: Principal, @Param('id', UuidParam) id: string, @Res({ passthrough: true }) res: Response): Promise<WebhookView | void> {
    const pending = await this.webhooks.remove(p, id);
    res.status(pending ? 202 : 204);
    return pending ?? undefined;
  }
}
