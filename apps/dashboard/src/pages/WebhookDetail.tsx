import { FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api, Attempt, EventTypeGroup, eventTypeGroups, Me, query, Webhook } from '../api';
import { isAdmin, Notify } from '../App';
import { DataTable, ErrorText, EventTypeOptions, Loading, PageTitle, StatusBadge } from '../components';
import { AUTH_LABEL, show, when } from '../format';
import { go } from '../router';
import { DeleteWebhook } from './DeleteWebhook';

const RECENT = 20;

export function WebhookDetail({ id, me, notify, focusTest }: { id: string; me: Me; notify: Notify; focusTest: boolean }) {
  const [webhook, setWebhook] = useState<Webhook | null>(null);
  const [attempts, setAttempts] = useState<Attempt[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [deleting, setDeleting] = useState(false);

  const loadWebhook = useCallback(() => api.get<Webhook>(`/v2/webhooks/${id}`).then(setWebhook, setError), [id]);
  const loadAttempts = useCallback(
    () =>
      api.get<{ deliveries: Attempt[] }>(`/v2/webhooks/${id}/deliveries${query({ limit: RECENT })}`).then((r) => {
        setAttempts(r.deliveries);
        return r.deliveries;
      }),
    [id],
  );
  useEffect(() => {
    void loadWebhook();
    loadAttempts().catch(() => setAttempts([]));
  }, [loadWebhook, loadAttempts]);

  if (error) return <ErrorText error={error instanceof ApiError && error.status === 404 ? new Error('This webhook does not exist (or was deleted).') : error} />;
  if (!webhook) return <Loading what="the webhook" />;
  const pending = Boolean(webhook.pending_approval_id);
  const pendingWhy = 'A change to this webhook awaits approval; it can be edited or deleted again once that request is decided.';

  return (
    <section>
      <div className="page-head">
        <PageTitle>Webhook "{webhook.name}"</PageTitle>
        <div className="actions">
          {pending ? (
            <>
              <button type="button" disabled aria-describedby="pending-why">
                Edit
              </button>
              <button type="button" disabled aria-describedby="pending-why">
                Delete
              </button>
            </>
          ) : (
            <>
              <a className="button" href={`#/webhooks/${webhook.id}/edit`} id="edit-webhook">
                Edit
              </a>
              <button type="button" className="danger" id="delete-webhook" onClick={() => setDeleting(true)}>
                Delete
              </button>
            </>
          )}
        </div>
      </div>
      <p>
        <StatusBadge status={webhook.status} /> {webhook.status_detail && <span id="status-detail">{webhook.status_detail}</span>}
      </p>
      {pending && (
        <p className="notice notice-info" id="pending-why">
          {pendingWhy} Request <code>{webhook.pending_approval_id}</code>
          {isAdmin(me) && (
            <>
              {' '}
              — <a href="#/approvals">open Approvals</a>
            </>
          )}
          .
        </p>
      )}

      <h2>Settings</h2>
      <dl className="settings" id="settings">
        <dt>ID</dt>
        <dd>
          <code>{webhook.id}</code>
        </dd>
        <dt>Endpoint URL</dt>
        <dd className="url">{webhook.url}</dd>
        <dt>Auth Type</dt>
        <dd>{AUTH_LABEL[webhook.auth_type] ?? webhook.auth_type}</dd>
        {webhook.api_key && (
          <>
            <dt>API key header</dt>
            <dd>
              <code>{webhook.api_key.header}</code>
            </dd>
            <dt>API key</dt>
            <dd>
              <code>{webhook.api_key.key}</code> <span className="muted">(masked)</span>
            </dd>
          </>
        )}
        {webhook.oauth && (
          <>
            <dt>Token URL</dt>
            <dd className="url">{webhook.oauth.client_url}</dd>
            <dt>Client ID</dt>
            <dd>
              <code>{webhook.oauth.client_id}</code>
            </dd>
            <dt>Client secret</dt>
            <dd>
              <code>{webhook.oauth.client_secret}</code> <span className="muted">(masked)</span>
            </dd>
          </>
        )}
        <dt>Event types</dt>
        <dd>
          {webhook.event_types.map((t) => (
            <code key={t} className="chip">
              {t}
            </code>
          ))}
        </dd>
        <dt>Rate limit</dt>
        <dd>{webhook.rate_limit} requests per second</dd>
        <dt>Signing secret</dt>
        <dd className="muted">shown once, when the webhook was created</dd>
        <dt>Created At</dt>
        <dd>{when(webhook.created_at)}</dd>
        <dt>Updated At</dt>
        <dd>{when(webhook.updated_at)}</dd>
      </dl>

      <TestSend webhook={webhook} focus={focusTest} notify={notify} loadAttempts={loadAttempts} />

      <h2 id="deliveries-title">Recent deliveries</h2>
      <button type="button" onClick={() => void loadAttempts()}>
        Refresh deliveries
      </button>
      {!attempts ? (
        <Loading what="deliveries" />
      ) : attempts.length === 0 ? (
        <p className="empty" id="deliveries-empty">
          No delivery attempts yet.
        </p>
      ) : (
        <DataTable id="deliveries" labelledBy="deliveries-title" columns={['Time', 'Event', 'Attempt', 'Result', 'Status code', 'Latency', 'Error']}>
          {attempts.map((a) => (
            <tr key={a.id} data-event-id={a.event_id}>
              <td>{when(a.created_at)}</td>
              <td>
                <code>{a.event_type}</code>
                {a.is_test && <span className="chip">test</span>}
              </td>
              <td>{a.attempt}</td>
              <td>{a.success ? 'Delivered' : a.delivery_status === 'FAILED' ? 'Failed' : 'Will retry'}</td>
              <td>{a.status_code ?? '—'}</td>
              <td>{a.latency_ms} ms</td>
              <td className="error-cell">{a.error ?? ''}</td>
            </tr>
          ))}
        </DataTable>
      )}

      <h2 id="history-title">Approval history</h2>
      {!webhook.approval_history?.length ? (
        <p className="muted" id="history-empty">
          No approval requests for this webhook.
        </p>
      ) : (
        <DataTable id="approval-history" labelledBy="history-title" columns={['Requested', 'Action', 'Changes', 'Requested by', 'Approvals', 'Status', 'Decided', 'Result']}>
          {webhook.approval_history.map((h) => (
            <tr key={h.approval_id}>
              <td>{when(h.requested_at)}</td>
              <td>{h.action}</td>
              <td>{show(h.changes)}</td>
              <td>{h.requested_by}</td>
              <td>
                {h.approvals.length} of {h.required_approvals}
                {h.approvals.length > 0 && ` (${h.approvals.map((a) => a.approved_by).join(', ')})`}
              </td>
              <td>{h.status}</td>
              <td>{h.decided_at ? `${when(h.decided_at)}${h.decided_by ? ` by ${h.decided_by}` : ''}` : '—'}</td>
              <td>{h.result ? `${h.result}${h.result_detail ? `: ${h.result_detail}` : ''}` : '—'}</td>
            </tr>
          ))}
        </DataTable>
      )}
      {deleting && (
        <DeleteWebhook
          webhook={webhook}
          notify={notify}
          onDone={(deleted) => {
            setDeleting(false);
            if (deleted) go('/webhooks');
            else void loadWebhook();
          }}
        />
      )}
    </section>
  );
}

function TestSend({ webhook, focus, notify, loadAttempts }: { webhook: Webhook; focus: boolean; notify: Notify; loadAttempts: () => Promise<Attempt[]> }) {
  const [groups, setGroups] = useState<EventTypeGroup[]>([]);
  const [type, setType] = useState('');
  const [state, setState] = useState<{ text: string; kind: 'info' | 'success' | 'error' } | null>(null);
  const [busy, setBusy] = useState(false);
  const selectRef = useRef<HTMLSelectElement>(null);
  const alive = useRef(true);
  useEffect(() => () => void (alive.current = false), []);
  useEffect(() => {
    eventTypeGroups().then(
      (g) => {
        setGroups(g);
        setType(g[0]?.event_types[0]?.type ?? '');
      },
      () => setGroups([]),
    );
  }, []);
  useEffect(() => {
    if (focus && groups.length) {
      selectRef.current?.focus();
      selectRef.current?.scrollIntoView({ block: 'center' });
    }
  }, [focus, groups.length]);
  // The API's delivering statuses: ERROR keeps delivering the configuration in force.
  const delivering = ['ACTIVE', 'PENDING_UPDATE', 'PENDING_DELETION', 'ERROR'].includes(webhook.status);

  async function send(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setState(null);
    let eventId: string;
    try {
      const r = await api.send<{ event_id: string }>('POST', `/v2/webhooks/${webhook.id}/test`, { event_type: type });
      eventId = r.body.event_id;
    } catch (err) {
      notify('error', `The test event was not sent: ${(err as Error).message}`);
      if (alive.current) setBusy(false);
      return;
    }
    try {
      setState({ kind: 'info', text: `Test event ${eventId} (${type}) sent; waiting for the delivery attempt…` });
      const deadline = Date.now() + 60_000;
      while (alive.current && Date.now() < deadline) {
        const attempt = (await loadAttempts().catch(() => [] as Attempt[])).find((a) => a.event_id === eventId); // a failed poll is retried
        if (attempt) {
          setState(
            attempt.success
              ? { kind: 'success', text: `Test event delivered: HTTP ${attempt.status_code} in ${attempt.latency_ms} ms (attempt ${attempt.attempt}).` }
              : { kind: 'error', text: `Test event attempt ${attempt.attempt} failed: ${attempt.error ?? `HTTP ${attempt.status_code}`}. It will be retried.` },
          );
          return;
        }
        await new Promise((res) => setTimeout(res, 1000));
      }
      if (alive.current) setState({ kind: 'info', text: `Test event ${eventId} sent; no attempt recorded yet. Refresh the deliveries in a moment.` });
    } finally {
      if (alive.current) setBusy(false);
    }
  }

  return (
    <section aria-labelledby="test-title" className="card">
      <h2 id="test-title">Send a test event</h2>
      {!delivering && (
        <p className="muted" id="test-why">
          Only an active webhook receives test events (this one is {webhook.status.toLowerCase().replace('_', ' ')}).
        </p>
      )}
      <form onSubmit={send} className="inline-form">
        <label htmlFor="test-type">Event type</label>
        <select id="test-type" ref={selectRef} value={type} onChange={(e) => setType(e.target.value)}>
          <EventTypeOptions groups={groups} />
        </select>
        <button type="submit" className="primary" id="send-test" disabled={busy || !type || !delivering} aria-describedby={!delivering ? 'test-why' : undefined}>
          {busy ? 'Sending…' : 'Send Test Event'}
        </button>
      </form>
      <p role="status" id="test-status" className={state ? `notice notice-${state.kind}` : 'notice-empty'}>
        {state?.text}
      </p>
    </section>
  );
}
