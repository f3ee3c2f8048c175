import { FormEvent, useCallback, useEffect, useState } from 'react';
import { api, EventItem, EventTypeGroup, eventTypeGroups, query } from '../api';
import type { Notify } from '../App';
import { DataTable, ErrorText, EventTypeOptions, Loading, PageTitle, Pager, useCursorPages } from '../components';
import { plural, when } from '../format';

const PAGE = 20;

interface Filters {
  from: string;
  to: string;
  type: string;
  kind: 'live' | 'test';
}

function iso(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function EventsPage({ notify }: { notify: Notify }) {
  const [groups, setGroups] = useState<EventTypeGroup[]>([]);
  const [draft, setDraft] = useState<Filters>({ from: '', to: '', type: '', kind: 'live' });
  const [filters, setFilters] = useState<Filters>(draft);
  const pages = useCursorPages();
  const [data, setData] = useState<{ events: EventItem[]; next_page_cursor: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [open, setOpen] = useState<EventItem | null>(null);
  const { cursor } = pages;

  useEffect(() => void eventTypeGroups().then(setGroups, () => undefined), []);
  const load = useCallback(() => {
    setError(null);
    const q = query({
      'created_at.gte': iso(filters.from),
      'created_at.lte': iso(filters.to),
      type: filters.type,
      is_test: filters.kind === 'test' ? 'true' : 'false',
      order: 'DESC',
      limit: PAGE,
      page_cursor: cursor,
    });
    api.get<{ events: EventItem[]; next_page_cursor: string }>(`/v2/events${q}`).then(setData, setError);
  }, [filters, cursor]);
  useEffect(load, [load]);

  function apply(e: FormEvent) {
    e.preventDefault();
    pages.reset();
    setOpen(null);
    setFilters({ ...draft });
  }

  const undelivered = data?.events.filter((e) => e.undelivered_webhooks > 0).length ?? 0;
  return (
    <section>
      <PageTitle>Events</PageTitle>
      <form className="filters" onSubmit={apply} aria-label="Event filters">
        <div className="field">
          <label htmlFor="ev-from">Created from</label>
          <input id="ev-from" type="datetime-local" step={1} value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="ev-to">Created until</label>
          <input id="ev-to" type="datetime-local" step={1} value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="ev-type">Event type</label>
          <select id="ev-type" value={draft.type} onChange={(e) => setDraft({ ...draft, type: e.target.value })}>
            <option value="">All types</option>
            <EventTypeOptions groups={groups} />
          </select>
        </div>
        <fieldset className="field">
          <legend>Kind</legend>
          <label>
            <input type="radio" name="ev-kind" id="ev-live" checked={draft.kind === 'live'} onChange={() => setDraft({ ...draft, kind: 'live' })} /> Live
          </label>
          <label>
            <input type="radio" name="ev-kind" id="ev-test" checked={draft.kind === 'test'} onChange={() => setDraft({ ...draft, kind: 'test' })} /> Test
          </label>
        </fieldset>
        <div className="actions">
          <button type="submit" className="primary" id="apply-filters">
            Apply filters
          </button>
        </div>
      </form>
      <ErrorText error={error} />
      {!data && !error && <Loading what="events" />}
      {data && (
        <p id="undelivered-summary" role="status">
          {data.events.length === 0
            ? 'No events match these filters.'
            : `${plural(data.events.length, 'event')} on this page; ${undelivered} not yet delivered to every subscribed webhook.`}
        </p>
      )}
      {data && data.events.length > 0 && (
        <DataTable id="events" captionId="events-caption" caption="Events, newest first" columns={['Created At', 'Type', 'Event ID', 'Undelivered webhooks', 'Actions']}>
          {data.events.map((e) => (
            <tr key={e.id} data-event-id={e.id}>
              <td>{when(e.created_at)}</td>
              <td>
                <code>{e.type}</code>
                {e.is_test && <span className="chip">test</span>}
              </td>
              <td>
                <code>{e.id}</code>
              </td>
              <td>{e.undelivered_webhooks}</td>
              <td>
                <button
                  type="button"
                  className="link"
                  aria-expanded={open?.id === e.id}
                  aria-controls="event-detail"
                  onClick={() => setOpen(open?.id === e.id ? null : e)}
                  data-act="payload"
                >
                  {open?.id === e.id ? 'Hide payload' : 'View payload'}
                  <span className="visually-hidden"> of event {e.id}</span>
                </button>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      {data && <Pager label="Event pages" pages={pages} nextCursor={data.next_page_cursor} />}
      {open && <EventDetail key={open.id} id={open.id} notify={notify} onChanged={load} />}
    </section>
  );
}

function EventDetail({ id, notify, onChanged }: { id: string; notify: Notify; onChanged: () => void }) {
  const [event, setEvent] = useState<EventItem | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => void api.get<EventItem>(`/v2/events/${id}`).then(setEvent, setError), [id]);
  async function redeliver() {
    setBusy(true);
    try {
      const r = await api.send<{ webhook_ids: string[] }>('POST', `/v2/events/${id}/redeliver`, {});
      notify(
        'success',
        r.body.webhook_ids.length
          ? `Event ${id} queued for redelivery to ${plural(r.body.webhook_ids.length, 'webhook')}.`
          : `Event ${id}: every subscribed webhook has already acknowledged it; nothing to redeliver.`,
      );
      onChanged();
    } catch (err) {
      notify('error', `Redelivery failed: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section id="event-detail" className="card" aria-labelledby="event-detail-title">
      <h2 id="event-detail-title">Event {id}</h2>
      <ErrorText error={error} />
      {!event && !error && <Loading what="the event" />}
      {event && (
        <>
          <dl className="settings">
            <dt>Type</dt>
            <dd>
              <code>{event.type}</code>
            </dd>
            <dt>Object type</dt>
            <dd>
              <code>{event.object_type}</code>
            </dd>
            <dt>Created At</dt>
            <dd>{when(event.created_at)}</dd>
            <dt>Test event</dt>
            <dd>{event.is_test ? 'yes' : 'no'}</dd>
            <dt>Undelivered webhooks</dt>
            <dd id="event-undelivered">{event.undelivered_webhooks}</dd>
          </dl>
          <h3 id="payload-title">Payload</h3>
          <pre className="payload" tabIndex={0} aria-labelledby="payload-title" id="event-payload">
            {JSON.stringify(event.object, null, 2)}
          </pre>
          <button type="button" id="redeliver" onClick={redeliver} disabled={busy}>
            {busy ? 'Redelivering…' : 'Redeliver to webhooks that have not acknowledged it'}
          </button>
        </>
      )}
    </section>
  );
}
