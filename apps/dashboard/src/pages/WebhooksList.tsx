import { useCallback, useEffect, useState } from 'react';
import { api, query, Webhook } from '../api';
import type { Notify } from '../App';
import { DataTable, ErrorText, Loading, PageTitle, Pager, StatusBadge, useCursorPages } from '../components';
import { AUTH_LABEL, when } from '../format';
import { DeleteWebhook } from './DeleteWebhook';

export const PAGE_SIZE = 5;

export function WebhooksList({ notify }: { notify: Notify }) {
  const pages = useCursorPages();
  const [data, setData] = useState<{ webhooks: Webhook[]; next_page_cursor: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const { cursor } = pages;

  const load = useCallback(() => {
    setError(null);
    api.get<{ webhooks: Webhook[]; next_page_cursor: string }>(`/v2/webhooks${query({ limit: PAGE_SIZE, page_cursor: cursor })}`).then(setData, setError);
  }, [cursor]);
  useEffect(load, [load]);

  return (
    <section aria-labelledby="webhooks-title">
      <div className="page-head">
        <PageTitle>
          <span id="webhooks-title">Webhooks</span>
        </PageTitle>
        <a className="button primary" href="#/webhooks/new" id="create-webhook">
          Create Webhook
        </a>
      </div>
      <ErrorText error={error} />
      {!data && !error && <Loading what="webhooks" />}
      {data && data.webhooks.length === 0 && pages.page === 1 && (
        <div className="empty" id="webhooks-empty">
          <p>No webhooks yet.</p>
          <p className="muted">Create one to receive events from this account at your HTTPS endpoint.</p>
        </div>
      )}
      {data && data.webhooks.length > 0 && (
        <DataTable
          id="webhooks"
          className="stack-narrow"
          captionId="webhooks-caption"
          caption={`The account's webhooks (${data.webhooks.length} on this page)`}
          columns={['Name', 'URL', 'Auth Type', 'Created At', 'Updated At', 'Status', 'Actions']}
        >
          {data.webhooks.map((w) => (
            <tr key={w.id} data-webhook-id={w.id}>
              <th scope="row">{w.name}</th>
              <td className="url" data-label="URL">
                {w.url}
              </td>
              <td data-label="Auth Type">{AUTH_LABEL[w.auth_type] ?? w.auth_type}</td>
              <td data-label="Created At">{when(w.created_at)}</td>
              <td data-label="Updated At">{when(w.updated_at)}</td>
              <td data-label="Status">
                <StatusBadge status={w.status} />
              </td>
              <td className="row-actions" data-label="Actions">
                <a href={`#/webhooks/${w.id}`} aria-label={`View ${w.name}`} data-act="view">
                  View
                </a>
                <a href={`#/webhooks/${w.id}?section=test`} aria-label={`Test ${w.name}`} data-act="test">
                  Test
                </a>
                <button type="button" className="link danger-text" aria-label={`Delete ${w.name}`} data-act="delete" onClick={() => setDeleting(w)}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      {data && <Pager label="Webhook pages" pages={pages} nextCursor={data.next_page_cursor} />}
      {deleting && (
        <DeleteWebhook
          webhook={deleting}
          notify={notify}
          onDone={() => {
            setDeleting(null);
            if (data?.webhooks.length === 1 && pages.page > 1) pages.back();
            else load();
          }}
        />
      )}
    </section>
  );
}
