import { Database } from '../apps/delivery-node/src/database';
import { readConfig } from '@app/config';
import { startTcpProxy, TcpProxy, viaProxy } from '@app/testing';
import { useHarness } from './support/harness';

/**
 * The delivery node's connection to Postgres drops at every point a connection can be in: idle in
 * the pool, checked out between the statements of a transaction, mid-query. Each drop fails at most
 * the work on that connection; the process lives on and the pool recovers once Postgres is back.
 */
describe('delivery node database connection drops', () => {
  const h = useHarness();
  let proxy: TcpProxy;
  let database: Database;

  beforeAll(async () => {
    const { url: dbUrl } = h.platform.db;
    const url = new URL(dbUrl);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    h.onClose(() => proxy.close());
    database = new Database({ ...readConfig({}), databaseUrl: viaProxy(dbUrl, proxy) });
    h.onClose(() => database.onApplicationShutdown());
    h.onClose(() => proxy.restore()); // first: the pool closes through a proxy that lets it
  });

  it('fails only the work on each dropped connection, and recovers', async () => {
    // Fill the pool with idle connections.
    await Promise.all(Array.from({ length: 4 }, () => database.query('select pg_sleep(0.05)')));
    let proceed!: () => void;
    const paused = new Promise<void>((r) => (proceed = r));
    let inside!: () => void;
    const entered = new Promise<void>((r) => (inside = r));
    // Checked out, between two statements of a transaction, when the connection drops.
    const between = database.transaction(async (client) => {
      await client.query('select 1');
      inside();
      await paused;
      await client.query('select 2');
    });
    await entered;
    const midQuery = database.query('select pg_sleep(5)');
    proxy.cut('refuse');
    proceed();
    await expect(between).rejects.toThrow();
    await expect(midQuery).rejects.toThrow();
    expect(await database.reachable()).toBe(false);

    proxy.restore();
    expect(await database.reachable()).toBe(true);
    await expect(database.transaction(async (client) => (await client.query('select 42 as n')).rows[0].n)).resolves.toBe(42);
  });
});
