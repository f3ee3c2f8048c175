import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { hashToken } from '@app/crypto';
import type { Principal, Role } from '@app/domain';

/** Resolves a bearer token to its principal; tokens are stored as SHA-256 hashes only. */
@Injectable()
export class TokenService {
  constructor(private readonly em: EntityManager) {}

  async resolve(token: string): Promise<Principal | undefined> {
    const rows = await this.em
      .getConnection()
      .execute<{ id: string; account_id: string; user_name: string; roles: Role[] }[]>('select id, account_id, user_name, roles from api_tokens where token_hash = ?', [
        hashToken(token),
      ]);
    const row = rows[0];
    return row && { tokenId: row.id, accountId: row.account_id, user: row.user_name, roles: row.roles };
  }
}
