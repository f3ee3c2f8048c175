import type { AbstractSqlConnection } from '@mikro-orm/postgresql';

type Conn = Pick<AbstractSqlConnection, 'execute'>;

/**
 * What the APIs may write, as one digest per table. Columns that background loops fill in after a
 * successful request (the outbox relay's published_at, the decision relay's notified_at) are left
 * out, so a digest changes only when a request's own writes do.
 */
const TABLES: [string, string][] = [
  ['accounts', 'select id, name from accounts'],
  ['api_tokens', 'select id, account_id, roles, token_hash from api_tokens'],
  ['webhooks', 'select * from webhooks'],
  ['webhook_outbox', 'select id, webhook_id, op, payload from webhook_outbox'],
  ['events', 'select * from events'],
  ['deliveries', 'select * from deliveries'],
  ['delivery_attempts', 'select * from delivery_attempts'],
  ['approval_policies', 'select * from approval_policies'],
  [
    'approval_requests',
    `select id, account_id, action, webhook_id, changes, proposal_enc, requested_by, required_approvals, status, decided_by, created_at, decided_at from approval_requests`,
  ],
  ['approval_decisions', 'select * from approval_decisions'],
  ['webhook_approval_applications', 'select * from webhook_approval_applications'],
];

const SNAPSHOT_SQL = `select ${TABLES.map(([name, q]) => `(select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from (${q}) t) as "${name}"`).join(', ')}`;

export async function snapshotState(conn: Conn): Promise<string> {
  const [row] = await conn.execute<Record<string, string>[]>(SNAPSHOT_SQL);
  return JSON.stringify(row);
}

/** Background work a successful request started: decided approvals not yet applied by the config service. */
const UNSETTLED_SQL = `select count(*)::int as n from approval_requests r
  where r.status <> 'PENDING' and r.action <> 'POLICY_UPDATE'
    and not exists (select 1 from webhook_approval_applications a where a.request_id = r.id)`;

/** The snapshot once background work is done and two reads agree (polled with a deadline). */
export async function settledState(conn: Conn, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const [{ n }] = await conn.execute<{ n: number }[]>(UNSETTLED_SQL);
    const now = await snapshotState(conn);
    if (n === 0 && now === last) return now;
    if (Date.now() > deadline) throw new Error(`state did not settle within ${timeoutMs} ms (${n} decided approvals not applied)`);
    last = now;
    if (n > 0) await new Promise((r) => setTimeout(r, 50));
  }
}
