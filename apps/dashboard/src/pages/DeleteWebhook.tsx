import { useState } from 'react';
import { ApiError, api, Webhook } from '../api';
import type { Notify } from '../App';
import { ConfirmDialog } from '../components';

/** Asks first, naming the webhook; says honestly whether it is gone or awaits approval. */
export function DeleteWebhook({ webhook, notify, onDone }: { webhook: Webhook; notify: Notify; onDone: (deleted: boolean) => void }) {
  const [busy, setBusy] = useState(false);
  async function confirm() {
    setBusy(true);
    try {
      const r = await api.send<Webhook>('DELETE', `/v2/webhooks/${webhook.id}`);
      if (r.status === 202) {
        notify('info', `Deletion of "${webhook.name}" awaits approval (request ${r.body.pending_approval_id}). The webhook keeps delivering until the deletion is approved.`);
        onDone(false);
      } else {
        notify('success', `Webhook "${webhook.name}" deleted.`);
        onDone(true);
      }
    } catch (err) {
      notify('error', `"${webhook.name}" was not deleted: ${err instanceof ApiError ? err.message : String(err)}`);
      onDone(false);
    }
  }
  return (
    <ConfirmDialog title={`Delete webhook "${webhook.name}"?`} confirmLabel="Delete webhook" danger busy={busy} onConfirm={confirm} onCancel={() => onDone(false)}>
      <p>
        Events will no longer be sent to <span className="url">{webhook.url}</span>. This cannot be undone; when approvals are on, the deletion waits for an approver.
      </p>
    </ConfirmDialog>
  );
}
