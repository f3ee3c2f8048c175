import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Forbidden, Role, Unauthenticated } from '@app/domain';
import { PUBLIC_KEY, ROLES_KEY } from './auth.decorators';
import { TokenService } from './token.service';

/** Global guard: every route needs a bearer token unless marked @Public; @RequireRoles narrows it. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const req = ctx.switchToHttp().getRequest();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers?.authorization ?? '');
    if (!match) throw new Unauthenticated();
    const principal = await this.tokens.resolve(match[1]);
    if (!principal) throw new Unauthenticated('The bearer token is not valid.');
    const needed = this.reflector.getAllAndOverride<Role[]>(ROLES_KEY, targets);
    if (needed?.length && !needed.some((r) => principal.roles.includes(r))) {
      throw new Forbidden(`This needs the ${needed.join(' or ')} role.`);
    }
    req.principal = principal;
    return true;
  }
}
