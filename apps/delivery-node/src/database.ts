import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Pool, PoolClient } from 'pg';
import { AppConfig } from '@app/config';
import { withSessionOptions } from '@app/persistence';

/**
 * The delivery node's pg pool. The repositories of `@app/persistence` run their plain batched SQL on
 * it (unnest arrays): the hot path writes hundreds of rows per statement and needs no unit of work.
 */
@Injectable()
export class Database implements OnApplicationShutdown {
  // Bounded waits: a partitioned network must fail queries (and turn readiness red) within seconds,
  // not hang passes until TCP gives up minutes later.
  readonly pool: Pool;

  constructor(config: AppConfig) {
    this.pool = new Pool({ connectionString: withSessionOptions(config.databaseUrl), max: 6, connectionTimeoutMillis: 5000, query_timeout: 30_000, keepAlive: true });
    this.pool.on('error', () => undefined); // idle client errors surface on the next query
    // A connection that drops while checked out (between the statements of a transaction) emits
    // 'error' on its client, which pg leaves unhandled: that would end the process. The error
    // surfaces on the client's next query instead, and the pool discards the broken client.
    this.pool.on('connect', (client) => client.on('error', () => undefined));
  }

  query<T extends object = any>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.pool.query<T>(sql, params).then((r) => r.rows);
  }

  /**
   * Is the database answering right now? Asked before blaming a batch's data for a failure: an
   * error text nobody foresaw, while the database is away, must not split a batch or set rows aside.
   */
  reachable(): Promise<boolean> {
    return this.pool.query('select 1').then(
      () => true,
      () => false,
    );
  }

  /** Runs `work` in one transaction on one pooled connection. */
  async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
