import { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { AppConfig } from '@app/config';
import { ormConfig, withSessionOptions } from '@app/persistence';
import { createTestDatabase, TestDatabase } from '@app/testing';
import { Database } from '../apps/delivery-node/src/database';

/**
 * One DATABASE_URL means the same session in every client of the platform: the ORM (config service),
 * the delivery node's pool and a plain client (retention). Its parameters are honoured, and our own
 * session settings (jit=off) survive a URL that brings `options` of its own.
 */
describe('DATABASE_URL parameters', () => {
  let db: TestDatabase;
  let url: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    const u = new URL(db.url);
    u.searchParams.set('options', '-c statement_timeout=1234');
    u.searchParams.set('application_name', 'webhooks-url-test');
    url = u.toString();
  });
  afterAll(() => db.drop());

  const SETTINGS = `select current_setting('jit') as jit, current_setting('statement_timeout') as statement_timeout, current_setting('application_name') as application_name`;
  const expected = { jit: 'off', statement_timeout: '1234ms', application_name: 'webhooks-url-test' };

  it('the ORM honours them', async () => {
    const orm = await MikroORM.init(ormConfig(url, { poolMax: 1 }));
    try {
      expect((await orm.em.fork().getConnection().execute(SETTINGS))[0]).toEqual(expected);
    } finally {
      await orm.close(true);
    }
  });

  it("the delivery node's pool honours them", async () => {
    const database = new Database({ databaseUrl: url } as AppConfig);
    try {
      expect((await database.query(SETTINGS))[0]).toEqual(expected);
    } finally {
      await database.onApplicationShutdown();
    }
  });

  it('a plain client honours them', async () => {
    const client = new Client({ connectionString: withSessionOptions(url) });
    await client.connect();
    try {
      expect((await client.query(SETTINGS)).rows[0]).toEqual(expected);
    } finally {
      await client.end();
    }
  });

  it('a setting the URL gives on purpose wins over ours', async () => {
    const u = new URL(db.url);
    u.searchParams.set('options', '-c jit=on');
    const client = new Client({ connectionString: withSessionOptions(u.toString()) });
    await client.connect();
    try {
      expect((await client.query(`select current_setting('jit') as jit`)).rows[0].jit).toBe('on');
    } finally {
      await client.end();
    }
  });
});
