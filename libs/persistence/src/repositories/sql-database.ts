import type { Pool, PoolClient } from 'pg';

/** One pg connection, or the pool: what a statement inside a transaction runs on. */
export type SqlClient = Pick<PoolClient, 'query'>;

/**
 * What the repositories need of a pg pool (the delivery node's `Database` fits): plain statements,
 * named prepared statements on the pool, and a transaction on one connection. Errors are pg's own,
 * passed on unchanged, so callers classify them as before.
 */
export interface SqlDatabase {
  readonly pool: Pick<Pool, 'query'>;
  query<T extends object = any>(sql: string, params?: unknown[]): Promise<T[]>;
  transaction<T>(work: (client: SqlClient) => Promise<T>): Promise<T>;
}
