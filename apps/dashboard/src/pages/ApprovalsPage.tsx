import { FormEvent, useCallback, useEffect, useState } from 'react';
import { APPROVAL_API, ApprovalRequest, api, Me, policy as readPolicy, Policy, query, Webhook } from '../api';
import type { Notify } from '../App';
import { DataTable, ErrorText, Loading, PageTitle, Pager, useCursorPages } from '../components';
import { show, when } from '../format';

export function ApprovalsPage({ me, notify }: { me: Me; notify: Notify }) {
  const [version, setVersion] = useState(0);
  const refresh = useCallback(() => setVersion((v) => v + 1), []);
  return (
    <section>
      <PageTitle>Approvals</PageTitle>
      <p className="muted">
        Four-eyes rule: when approvals are on, every webhook create, update and delete waits for the required number of approvers, and nobody can approve a request they made.
      </p>
      <PolicyCard me={me} notify={notify} version={version} onChanged={refresh} />
      <PendingRequests me={me} notify={notify} version={version} onChanged={refresh} />
      <DecidedRequests version={version} />
    </section>
  );
}

function PolicyCard({ me, notify, version, onChanged }: { me: Me; notify: Notify; version: number; onChanged: () => void }) {
  const [policy, setPolicy] = useState<Policy | null>(null);
  const [enabled, setEnabled] = useState(false);
  const [required, setRequired] = useState('1');
  const [error, setError] = useState<unknown>(null);
  const [fieldError, setFieldError] = useState('');
  const [busy, setBusy] = useState(false);
  const manager = me.roles.includes('entity_manager');
  useEffect(() => {
    readPolicy().then((p) => {
      setPolicy(p);
      setEnabled(p.enabled);
      setRequired(String(p.required_approvals));
    }, setError);
  }, [version]);

  async function save(e: FormEvent) {
    e.preventDefault();
    setFieldError('');
    setBusy(true);
    try {
      const n = Number(required);
      const r = await api.send<Policy>('PUT', `${APPROVAL_API}/v2/approval-policies/webhooks`, { enabled, required_approvals: Number.isFinite(n) ? n : required });
      notify(
        r.status === 202 ? 'info' : 'success',
        r.status === 202
          ? `The policy change awaits approval (request ${r.body.pending_approval_id}).`
          : `Approval policy saved: approvals are ${r.body.enabled ? `on, ${r.body.required_approvals} required` : 'off'}.`,
      );
      onChanged();
    } catch (err) {
      const fe = (err as { fieldErrors?: { field: string; message: string }[] }).fieldErrors?.find((f) => f.field === 'required_approvals');
      if (fe) setFieldError(fe.message);
      notify('error', `The policy was not saved: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="policy-title">
      <h2 id="policy-title">Approval policy for webhook changes</h2>
      <ErrorText error={error} />
      {!policy && !error && <Loading what="the policy" />}
      {policy && (
        <form onSubmit={save} noValidate id="policy-form">
          <p id="policy-state">
            Approvals are <strong>{policy.enabled ? 'on' : 'off'}</strong>
            {policy.enabled && (
              <>
                ; {policy.required_approvals} approval{policy.required_approvals === 1 ? '' : 's'} required
              </>
            )}
            .
            {policy.pending_approval_id && (
              <>
                {' '}
                A change to this policy awaits approval (request <code>{policy.pending_approval_id}</code>).
              </>
            )}
          </p>
          <div className="field">
            <label>
              <input
                type="checkbox"
                id="policy-enabled"
                checked={enabled}
                disabled={!manager}
                onChange={(e) => setEnabled(e.target.checked)}
                aria-describedby={manager ? undefined : 'policy-why'}
              />{' '}
              Require approval for webhook changes
            </label>
          </div>
          <div className="field">
            <label htmlFor="policy-required">Required approvals (1–5)</label>
            <input
              id="policy-required"
              type="number"
              min={1}
              max={5}
              value={required}
              disabled={!manager}
              onChange={(e) => setRequired(e.target.value)}
              aria-invalid={Boolean(fieldError)}
              aria-describedby={[fieldError ? 'policy-required-error' : '', manager ? '' : 'policy-why'].filter(Boolean).join(' ') || undefined}
            />
            {fieldError && (
              <p id="policy-required-error" className="field-error">
                {fieldError}
              </p>
            )}
          </div>
          <button type="submit" className="primary" id="save-policy" disabled={!manager || busy} aria-describedby={manager ? undefined : 'policy-why'}>
            Save policy
          </button>
          {!manager && (
            <p id="policy-why" className="muted">
              Only a user with the entity manager role can change the policy.
            </p>
          )}
          {manager && policy.enabled && <p className="muted">While approvals are on, a policy change needs approval too.</p>}
        </form>
      )}
    </section>
  );
}

function PendingRequests({ me, notify, version, onChanged }: { me: Me; notify: Notify; version: number; onChanged: () => void }) {
  const [items, setItems] = useState<ApprovalRequest[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    setError(null);
    api.get<{ approvals: ApprovalRequest[] }>(`${APPROVAL_API}/v2/approvals${query({ status: 'PENDING', limit: 100 })}`).then((r) => setItems(r.approvals), setError);
  }, [version]);
  return (
    <section aria-labelledby="pending-title">
      <h2 id="pending-title">Pending requests</h2>
      <ErrorText error={error} />
      {!items && !error && <Loading what="pending requests" />}
      {items && items.length === 0 && (
        <p className="empty" id="pending-empty">
          No requests await a decision.
        </p>
      )}
      <div id="pending-requests">
        {items?.map((r) => (
          <PendingRequest key={r.id} request={r} me={me} notify={notify} onChanged={onChanged} />
        ))}
      </div>
    </section>
  );
}

function PendingRequest({ request: r, me, notify, onChanged }: { request: ApprovalRequest; me: Me; notify: Notify; onChanged: () => void }) {
  const [current, setCurrent] = useState<Webhook | null | 'unavailable'>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!r.webhook_id) return setCurrent('unavailable');
    api.get<Webhook>(`/v2/webhooks/${r.webhook_id}`).then(setCurrent, () => setCurrent('unavailable'));
  }, [r.webhook_id]);

  const approver = me.roles.includes('approver');
  const mine = r.requested_by === me.user;
  const approvedByMe = r.approvals.some((a) => a.approved_by === me.user);
  const approveWhy = !approver
    ? 'Approving needs the approver role.'
    : mine
      ? 'Four-eyes rule: you made this request, so another approver must approve it.'
      : approvedByMe
        ? `You have already approved it; it needs ${r.required_approvals - r.approvals.length} more approval(s) from other approvers.`
        : '';
  const rejectWhy = !approver ? 'Rejecting needs the approver role.' : '';
  const cancelWhy = !mine ? `Only the requester (${r.requested_by}) can cancel this request.` : '';
  const proposedName = (r.changes?.name as string | undefined) ?? '';
  const webhookName = r.action === 'CREATE' ? proposedName : current === null ? '…' : current === 'unavailable' ? proposedName || (r.webhook_id ?? '') : current.name;
  const title =
    r.action === 'POLICY_UPDATE' ? 'Change of the approval policy' : `${r.action === 'CREATE' ? 'Create' : r.action === 'UPDATE' ? 'Update' : 'Delete'} webhook "${webhookName}"`;
  const idp = `req-${r.id}`;

  async function decide(what: 'approve' | 'reject' | 'cancel') {
    setBusy(true);
    try {
      const res = await api.send<ApprovalRequest>('POST', `${APPROVAL_API}/v2/approvals/${r.id}/${what}`);
      const status = res.body.status;
      notify(
        'success',
        what === 'approve'
          ? status === 'APPROVED'
            ? `Approved: ${title}. The change is being applied.`
            : `Approval recorded (${res.body.approvals.length} of ${res.body.required_approvals}).`
          : what === 'reject'
            ? `Rejected: ${title}.`
            : `Cancelled: ${title}.`,
      );
      onChanged();
    } catch (err) {
      notify('error', `Could not ${what}: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  const rows = diffRows(r, current === 'unavailable' ? null : current);
  return (
    <article className="card request" aria-labelledby={`${idp}-title`} data-request-id={r.id}>
      <h3 id={`${idp}-title`}>{title}</h3>
      <p className="muted">
        Requested by <strong>{r.requested_by}</strong> on {when(r.created_at)} · {r.approvals.length} of {r.required_approvals} approvals
        {r.approvals.length > 0 && ` (${r.approvals.map((a) => a.approved_by).join(', ')})`}
      </p>
      {rows.length > 0 && (
        <DataTable className="diff" label={`Proposed change: ${title}`} caption="Proposed change against the current webhook" columns={['Field', 'Current', 'Proposed']}>
          {rows.map(([field, before, after]) => (
            <tr key={field} className={before !== after ? 'changed' : undefined}>
              <th scope="row">{field}</th>
              <td>
                <del className={before !== after ? undefined : 'same'}>{before}</del>
              </td>
              <td>
                <ins className={before !== after ? undefined : 'same'}>{after}</ins>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      <div className="actions">
        <button
          type="button"
          className="primary"
          disabled={busy || Boolean(approveWhy)}
          aria-describedby={approveWhy ? `${idp}-approve-why` : undefined}
          onClick={() => decide('approve')}
          data-act="approve"
        >
          Approve
        </button>
        <button
          type="button"
          className="danger"
          disabled={busy || Boolean(rejectWhy)}
          aria-describedby={rejectWhy ? `${idp}-reject-why` : undefined}
          onClick={() => decide('reject')}
          data-act="reject"
        >
          Reject
        </button>
        <button
          type="button"
          disabled={busy || Boolean(cancelWhy)}
          aria-describedby={cancelWhy ? `${idp}-cancel-why` : undefined}
          onClick={() => decide('cancel')}
          data-act="cancel"
        >
          Cancel request
        </button>
      </div>
      <ul className="why muted">
        {approveWhy && <li id={`${idp}-approve-why`}>{approveWhy}</li>}
        {rejectWhy && <li id={`${idp}-reject-why`}>{rejectWhy}</li>}
        {cancelWhy && <li id={`${idp}-cancel-why`}>{cancelWhy}</li>}
      </ul>
    </article>
  );
}

const FIELDS = ['name', 'url', 'auth_type', 'api_key', 'oauth', 'event_types', 'rate_limit'] as const;

/** [field, current, proposed] for the fields a request touches (every field for a create or delete). */
function diffRows(r: ApprovalRequest, current: Webhook | null): [string, string, string][] {
  if (r.action === 'POLICY_UPDATE') return Object.entries(r.changes ?? {}).map(([k, v]) => [k, '', show(v)]);
  if (r.action === 'DELETE') return current ? FIELDS.map((f) => [f, show(current[f]), '(deleted)']) : [];
  const changes = r.changes ?? {};
  const fields = r.action === 'CREATE' ? FIELDS.filter((f) => f in changes) : FIELDS.filter((f) => f in changes);
  return fields.map((f) => [f, r.action === 'CREATE' || !current ? '' : show(current[f]), show(changes[f])]);
}

function DecidedRequests({ version }: { version: number }) {
  const pages = useCursorPages();
  const [data, setData] = useState<{ approvals: ApprovalRequest[]; next_page_cursor: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const { cursor } = pages;
  useEffect(() => {
    Promise.all(
      ['APPROVED', 'REJECTED', 'CANCELLED'].map((s) => api.get<{ approvals: ApprovalRequest[] }>(`${APPROVAL_API}/v2/approvals${query({ status: s, limit: 100 })}`)),
    ).then((pages) => {
      const all = pages.flatMap((p) => p.approvals).sort((a, b) => (b.decided_at ?? '').localeCompare(a.decided_at ?? ''));
      const start = cursor ? Number(cursor) : 0;
      setData({ approvals: all.slice(start, start + 10), next_page_cursor: all.length > start + 10 ? String(start + 10) : '' });
    }, setError);
  }, [version, cursor]);
  return (
    <section aria-labelledby="decided-title">
      <h2 id="decided-title">Decided requests</h2>
      <ErrorText error={error} />
      {data && data.approvals.length === 0 && (
        <p className="empty" id="decided-empty">
          No decided requests yet.
        </p>
      )}
      {data && data.approvals.length > 0 && (
        <DataTable id="decided" labelledBy="decided-title" columns={['Decided', 'Action', 'Changes', 'Requested by', 'Approvals', 'Status', 'Decided by']}>
          {data.approvals.map((r) => (
            <tr key={r.id}>
              <td>{when(r.decided_at)}</td>
              <td>{r.action}</td>
              <td>{show(r.changes)}</td>
              <td>{r.requested_by}</td>
              <td>{r.approvals.map((a) => a.approved_by).join(', ') || '—'}</td>
              <td>{r.status}</td>
              <td>{r.decided_by ?? '—'}</td>
            </tr>
          ))}
        </DataTable>
      )}
      {data && <Pager label="Decided request pages" pages={pages} nextCursor={data.next_page_cursor} />}
    </section>
  );
}
