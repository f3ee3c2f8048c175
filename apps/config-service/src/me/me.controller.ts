import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { EntityManager } from '@mikro-orm/postgresql';
import type { Principal } from '@app/domain';
import { CurrentPrincipal } from '@app/auth';
import { ApiAuthenticatedProblems } from '@app/http-common';
import { Account } from '@app/persistence';
import { MeResponse } from './me.dto';

export interface MeView {
  account_id: string;
  account_name: string;
  user: string;
  roles: string[];
}

/** Who the token belongs to: the dashboard shows the account and picks the tabs from the roles. */
@ApiTags('me')
@ApiBearerAuth()
@Controller('v2/me')
@ApiAuthenticatedProblems()
export class MeController {
  constructor(private readonly em: EntityManager) {}

  @Get()
  @ApiOperation({ summary: 'The caller: account id and name, user and roles (any role)' })
  @ApiOkResponse({ type: MeResponse })
  async me(@CurrentPrincipal() p: Principal): Promise<MeView> {
    const account = await this.em.fork().findOne(Account, { id: p.accountId });
    return { account_id: p.accountId, account_name: account?.name ?? '', user: p.user, roles: [...p.roles] };
  }
}
