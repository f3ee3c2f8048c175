import type { ValidEvent } from '@app/domain';
import { DeliveriesRepository, NewDelivery } from './deliveries.repository';
import type { SqlDatabase } from './sql-database';

/** The `events` table: every accepted published event, for the events API and the deliveries' tasks. */
export class EventsRepository {
  constructor(
    private readonly db: SqlDatabase,
    private readonly deliveries: DeliveriesRepository,
  ) {}

  /**
   * In one transaction: inserts the events not recorded yet (a re-run adds nothing), then the
   * deliveries of every event now recorded under its own account. Returns the ids of the events
   * whose id is already recorded for another account: those events and their deliveries are not
   * written, never mixed with the other account's. Three statements, whatever the batch size.
   */
  async recordEventsWithDeliveries(events: ValidEvent[], deliveries: NewDelivery[]): Promise<Set<string>> {
    const foreign = new Set<string>();
    if (!events.length) return foreign;
    await this.db.transaction(async (client) => {
      await client.query(
        `insert into events (id, account_id, type, object_type, object, is_test, created_at)
         select id, account_id, type, object_type, object, false, created_at
         from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[]) as t(id, account_id, type, object_type, object, created_at)
         on conflict (id) do nothing`,
        [
          events.map((e) => e.id),
          events.map((e) => e.account_id),
          events.map((e) => e.type),
          events.map((e) => e.object_type),
          events.map((e) => JSON.stringify(e.object)),
          events.map((e) => e.time),
        ],
      );
      const owners = await client.query<{ id: string; account_id: string }>('select id, account_id from events where id = any($1::uuid[])', [events.map((e) => e.id)]);
      const ownerOf = new Map(owners.rows.map((r) => [r.id, r.account_id]));
      for (const e of events) if (ownerOf.get(e.id) !== e.account_id) foreign.add(e.id);
      const kept = deliveries.filter((d) => !foreign.has(d.eventId));
      if (kept.length) await this.deliveries.insertNewWithin(client, kept);
    });
    return foreign;
  }
}
