import { Migration } from '@mikro-orm/migrations';

/**
 * Four-eyes approvals: a policy per account, requests with their decisions (the approval service's
 * tables), and the record of which decided requests the config service has applied (its
 * idempotency key: one row per request, written in the same transaction as the change).
 */
export class Migration20261127000003 extends Migration {
  async up(): Promise<void> {
    this.addSql(`
      create table approval_policies (
        account_id uuid primary key references accounts(id) on delete cascade,
        enabled boolean not null,
        required_approvals smallint not null check (required_approvals between 1 and 5),
        updated_by text,
        updated_at timestamptz not null default now()
      );
      create table approval_requests (
        id uuid primary key,
        account_id uuid not null references accounts(id) on delete cascade,
        action text not null check (action in ('CREATE', 'UPDATE', 'DELETE', 'POLICY_UPDATE')),
        webhook_id uuid,
        changes jsonb,
        proposal_enc text,
        requested_by text not null,
        required_approvals smallint not null check (required_approvals between 1 and 5),
        status text not null check (status in ('PENDING', 'APPROVED', 'REJECTED', 'CANCELLED')),
        decided_by text,
        created_at timestamptz not null default now(),
        decided_at timestamptz,
        notified_at timestamptz,
        check ((action = 'POLICY_UPDATE') = (webhook_id is null)),
        check ((status = 'PENDING') = (decided_at is null))
      );
      create unique index approval_requests_one_pending_per_webhook on approval_requests (webhook_id) where status = 'PENDING';
      create unique index approval_requests_one_pending_policy on approval_requests (account_id) where status = 'PENDING' and action = 'POLICY_UPDATE';
      create index approval_requests_account_page on approval_requests (account_id, created_at, id);
      create index approval_requests_webhook on approval_requests (webhook_id, created_at) where webhook_id is not null;
      create index approval_requests_unnotified on approval_requests (decided_at) where notified_at is null and status <> 'PENDING';
      create table approval_decisions (
        id uuid primary key,
        request_id uuid not null references approval_requests(id) on delete cascade,
        user_name text not null,
        decision text not null check (decision in ('APPROVE', 'REJECT', 'CANCEL')),
        created_at timestamptz not null default now()
      );
      create unique index approval_decisions_one_approval_per_user on approval_decisions (request_id, user_name) where decision = 'APPROVE';
      create index approval_decisions_request on approval_decisions (request_id, created_at);
      create table webhook_approval_applications (
        request_id uuid primary key,
        account_id uuid not null,
        webhook_id uuid not null,
        outcome text not null check (outcome in ('APPLIED', 'FAILED', 'REVERTED', 'IGNORED')),
        detail text,
        applied_at timestamptz not null default now()
      );
    `);
  }

  async down(): Promise<void> {
    this.addSql('drop table webhook_approval_applications; drop table approval_decisions; drop table approval_requests; drop table approval_policies;');
  }
}
