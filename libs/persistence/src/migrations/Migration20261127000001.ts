import { Migration } from '@mikro-orm/migrations';

/** Accounts, tokens, webhooks and the webhook change outbox. */
export class Migration20261127000001 extends Migration {
  async up(): Promise<void> {
    this.addSql(`
      create table accounts (
        id uuid primary key,
        name text not null,
        created_at timestamptz not null default now()
      );
      create table api_tokens (
        id uuid primary key,
        account_id uuid not null references accounts(id) on delete cascade,
        user_name text not null,
        roles text[] not null,
        token_hash text not null unique,
        created_at timestamptz not null default now()
      );
      create table webhooks (
        id uuid primary key,
        account_id uuid not null references accounts(id) on delete cascade,
        name text not null check (char_length(name) between 1 and 100),
        url text not null check (char_length(url) <= 2048 and url like 'https://%'),
        auth_type text not null check (auth_type in ('API_KEY', 'OAUTH')),
        api_key_header text,
        api_key_enc text,
        oauth_client_url text,
        oauth_client_id text,
        oauth_client_secret_enc text,
        event_types text[] not null check (cardinality(event_types) > 0),
        rate_limit integer not null check (rate_limit between 1 and 100),
        status text not null check (status in ('PENDING', 'ACTIVE', 'PENDING_UPDATE', 'PENDING_DELETION', 'ERROR')),
        error_detail text,
        signing_secret_enc text not null,
        pending_approval_id uuid,
        slot smallint check (slot between 1 and 10),
        version integer not null default 1,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        deleted_at timestamptz,
        check (deleted_at is not null or slot is not null),
        check ((auth_type = 'API_KEY' and api_key_header is not null and api_key_enc is not null)
            or (auth_type = 'OAUTH' and oauth_client_url is not null and oauth_client_id is not null and oauth_client_secret_enc is not null))
      );
      create unique index webhooks_live_name on webhooks (account_id, name) where deleted_at is null;
      create unique index webhooks_live_slot on webhooks (account_id, slot) where deleted_at is null;
      create index webhooks_account_page on webhooks (account_id, created_at, id) where deleted_at is null;
      create table webhook_outbox (
        id bigserial primary key,
        webhook_id uuid not null,
        op text not null check (op in ('PUT', 'DELETE')),
        payload jsonb,
        created_at timestamptz not null default now(),
        published_at timestamptz
      );
      create index webhook_outbox_unpublished on webhook_outbox (id) where published_at is null;
    `);
  }

  async down(): Promise<void> {
    this.addSql('drop table webhook_outbox; drop table webhooks; drop table api_tokens; drop table accounts;');
  }
}
