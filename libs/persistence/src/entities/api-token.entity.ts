import { ArrayType, Entity, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import type { Role } from '@app/domain';

/** A bearer token of one user of one account; only the SHA-256 of the token is stored. */
@Entity({ tableName: 'api_tokens' })
export class ApiToken {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'uuid', fieldName: 'account_id' })
  accountId!: string;

  @Property({ type: 'text', fieldName: 'user_name' })
  userName!: string;

  @Property({ type: ArrayType })
  roles!: Role[];

  @Property({ type: 'text', fieldName: 'token_hash', unique: true })
  tokenHash!: string;

  @Property({ type: 'timestamptz', fieldName: 'created_at' })
  createdAt: Date = new Date();
}
