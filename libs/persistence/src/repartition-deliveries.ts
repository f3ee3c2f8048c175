import { EntityManager } from '@mikro-orm/postgresql';

/**
 * partitionOf (libs/hashing) in SQL (one `?` parameter, P): the first 4 bytes of sha256(webhook id), big-endian, mod P.
 * Pinned by a test against the TypeScript function.
 */
export const PARTITION_OF_SQL = `((('x' || left(encode(sha256(convert_to(webhook_id::text, 'UTF8')), 'hex'), 8))::bit(32)::bigint % ?)::int)`;

/**
 * Moves every unfinished delivery to its partition under the new count and makes it due now, so the
 * retry scanners of the partitions' new owners re-drive it (its NATS task, if any, was purged with
 * the old partitions). Finished rows keep their old partition: nothing reads it any more. Returns the
 * rows moved.
 */
export async function repartitionDeliveries(em: EntityManager, partitions: number): Promise<number> {
  const res = await em
    .getConnection()
    .execute<{ affectedRows?: number }>(
      `update deliveries set partition = ${PARTITION_OF_SQL}, next_attempt_at = now(), updated_at = now() where status = 'PENDING'`,
      [partitions],
      'run',
    );
  return res.affectedRows ?? 0;
}
