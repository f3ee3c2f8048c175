import { Migration } from '@mikro-orm/migrations';

/**
 * Events (recorded by fan-out), one delivery row per (event, webhook) that also serves as the
 * durable due-time queue for retries, and the attempt log.
 */
export class Migration20261127000002 extends Migration {
  async up(): Promise<void> {
    this.addSql(`
      create table events (
        id uuid primary key,
        account_id uuid not null references accounts(id) on delete cascade,
        type text not null,
        object_type text not null,
        object jsonb not null,
        is_test boolean not null default false,
        created_at timestamptz not null,
        received_at timestamptz not null default now()
      );
      create index events_account_page on events (account_id, is_test, created_at, id);
      create index events_account_type on events (account_id, type, created_at);

      create table deliveries (
        event_id uuid not null references events(id) on delete cascade,
        webhook_id uuid not null references webhooks(id) on delete cascade,
        account_id uuid not null,
        partition integer not null,
        status text not null default 'PENDING' check (status in ('PENDING', 'SUCCEEDED', 'FAILED')),
        attempts integer not null default 0,
        first_attempt_at timestamptz,
        last_attempt_at timestamptz,
        next_attempt_at timestamptz,
        last_status_code integer,
        last_error text,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        primary key (event_id, webhook_id)
      );
      create index deliveries_due on deliveries (partition, next_attempt_at) where status = 'PENDING' and next_attempt_at is not null;
      create index deliveries_webhook on deliveries (webhook_id, status);

      create table delivery_attempts (
        id bigserial primary key,
        event_id uuid not null,
        webhook_id uuid not null,
        account_id uuid not null,
        attempt integer not null,
        success boolean not null,
        status_code integer,
        error text,
        latency_ms integer not null,
        response_excerpt text,
        node_id text,
        created_at timestamptz not null default now()
      );
      create index delivery_attempts_webhook_page on delivery_attempts (webhook_id, created_at desc, id desc);
      create index delivery_attempts_event on delivery_attempts (event_id);
    `);
  }

  async down(): Promise<void> {
    this.addSql('drop table delivery_attempts; drop table deliveries; drop table events;');
  }
}
