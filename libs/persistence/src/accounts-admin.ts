import { EntityManager } from '@mikro-orm/postgresql';
import { generateApiToken, hashToken } from '@app/crypto';
import { ROLES, Role } from '@app/domain';
import { Account } from './entities/account.entity';
import { ApiToken } from './entities/api-token.entity';

/** Operator actions behind `npm run admin`. */
export async function createAccount(em: EntityManager, name: string): Promise<{ account_id: string }> {
  if (!name.trim()) throw new Error('--name is required');
  const account = em.create(Account, { name } as Account);
  await em.persistAndFlush(account);
  return { account_id: account.id };
}

export async function createToken(em: EntityManager, accountId: string, user: string, roles: string[]): Promise<{ token: string }> {
  const bad = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (!roles.length || bad.length) throw new Error(`--roles must be a comma-separated list of ${ROLES.join(', ')}`);
  // One spelling per person: "Alice" and "alice " are the same user (four-eyes compares names).
  user = user.trim().toLowerCase();
  if (!user) throw new Error('--user is required');
  if (!(await em.findOne(Account, { id: accountId }))) throw new Error(`account ${accountId} does not exist`);
  const token = generateApiToken();
  await em.persistAndFlush(em.create(ApiToken, { accountId, userName: user, roles: roles as Role[], tokenHash: hashToken(token) } as ApiToken));
  return { token };
}
