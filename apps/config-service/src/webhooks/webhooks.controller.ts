import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@app/domain';
import { CurrentPrincipal, RequireRoles } from '@app/auth';
import { PageQueryDto, pageLimit, UuidParam } from '@app/http-common';
import { CreateWebhookDto, UpdateWebhookDto } from './webhook.dto';
import { WebhooksService } from './webhooks.service';

@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('v2/webhooks')
@RequireRoles('developer')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a webhook' })
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateWebhookDto) {
    return this.webhooks.create(p, { ...dto, api_key: dto.api_key ?? null, oauth: dto.oauth ?? null });
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
  @ApiOperation({ summary: 'Change a webhook' })
  update(@CurrentPrincipal() p: Principal, @Param('id', UuidParam) id: string, @Body() dto: UpdateWebhookDto) {
    return this.webhooks.update(p, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a webhook' })
  async remove(@CurrentPrincipal() p: Principal, @Param('id', UuidParam) id: string): Promise<void> {
    await this.webhooks.remove(p, id);
  }
}
