import { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { Pool } from 'pg';
import { createAccount, createToken, ormConfig } from '@app/persistence';
import { Teardown } from './teardown';
import { createTestDatabase, TestDatabase } from './test-database';
import { startNatsServer, TestNatsServer } from './nats-server';
import type { ApiClient } from './http-client';

export const TEST_SECRETS_KEY = Buffer.alloc(32, 42).toString('base64');

export interface TestPlatform {
  db: TestDatabase;
  nats: TestNatsServer;
  env: Record<string, string>;
  orm: MikroORM;
  /** Creates an account and a token for it with the given roles. */
  account(name?: string): Promise<{ accountId: string; token(user: string, roles: string[]): Promise<string> }>;
  /** Plain SQL ($1 parameters) against this file's database, for arranging and checking rows. */
  sql<T extends object = any>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/**
 * One test file's private world: its own migrated database and its own JetStream server, with the
 * platform's environment pointing at them (process.env is set, since the apps read it at start-up,
 * and put back as it was on close).
 * `natsArgs` go to nats-server (e.g. `-c <config>` for a server that demands credentials and TLS).
 */
export async function startTestPlatform(extraEnv: Record<string, string> = {}, opts: { natsArgs?: string[] } = {}): Promise<TestPlatform> {
  // Started side by side; if one fails (or the ORM after them), the others are stopped, not leaked.
  const started = new Teardown();
  const [db, nats, orm] = await started.guard(async () => {
    const [dbStart, natsStart] = await Promise.allSettled([createTestDatabase(), startNatsServer({ extraArgs: opts.natsArgs })]);
    if (dbStart.status === 'fulfilled') started.add(dbStart.value, (d) => d.drop());
    if (natsStart.status === 'fulfilled') started.add(natsStart.value, (n) => n.dispose());
    if (dbStart.status === 'rejected') throw dbStart.reason;
    if (natsStart.status === 'rejected') throw natsStart.reason;
    return [dbStart.value, natsStart.value, await MikroORM.init(ormConfig(dbStart.value.url, { poolMax: 4 }))] as const;
  });
  const env = {
    DATABASE_URL: db.url,
    NATS_URL: nats.url,
    SECRETS_KEY: TEST_SECRETS_KEY,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error', // quiet test output; LOG_LEVEL=warn npm test shows more
    DELIVERY_ALLOW_PRIVATE_NETWORKS: 'true',
    ...extraEnv,
  };
  // Put back on close: a second world in the same process (another describe of the file) must not
  // inherit this one's settings (say DELIVERY_FANOUT_CLAIMS=false) without asking for them.
  const before = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  let pool: Pool | undefined;
  return {
    db,
    nats,
    env,
    orm,
    async account(name = 'acme') {
      const { account_id } = await createAccount(orm.em.fork(), name);
      return { accountId: account_id, token: async (user, roles) => (await createToken(orm.em.fork(), account_id, user, roles)).token };
    },
    sql(text, params = []) {
      pool ??= new Pool({ connectionString: db.url, max: 2 });
      return pool.query(text, params).then((r) => r.rows);
    },
    async close() {
      await pool?.end();
      await orm.close(true);
      await nats.dispose();
      await db.drop();
      for (const [k, v] of Object.entries(before)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    },
  };
}

/** Starts a Nest app on a free loopback port and returns its base URL. */
export async function listen(app: INestApplication): Promise<string> {
  await app.listen(0, '127.0.0.1');
  const addr = app.getHttpServer().address() as { port: number };
  return `http://127.0.0.1:${addr.port}`;
}

/** An account with a developer signed in: its id and an API client acting as that developer. */
export async function developerTenant(platform: TestPlatform, api: { as(token: string): ApiClient }, name: string): Promise<{ accountId: string; dev: ApiClient }> {
  const acct = await platform.account(name);
  return { accountId: acct.accountId, dev: api.as(await acct.token(`dev-${name}`, ['developer'])) };
}
