import { WebhookSnapshot } from '@app/domain';
import { WebhookIndex } from './webhook-index';

const snap = (over: Partial<WebhookSnapshot>): WebhookSnapshot => ({
  id: 'w1',
  account_id: 'a1',
  url: 'https://x.example.com',
  auth_type: 'API_KEY',
  api_key: { header: 'X', key_enc: 'k' },
  oauth: null,
  event_types: ['identity.*'],
  rate_limit: 10,
  status: 'ACTIVE',
  signing_secret_enc: 's',
  version: 1,
  updated_at: '',
  ...over,
});

describe('WebhookIndex', () => {
  it('finds live subscribers of the same account only', () => {
    const idx = new WebhookIndex();
    idx.apply({ kind: 'put', webhook: snap({}) });
    idx.apply({ kind: 'put', webhook: snap({ id: 'w2', event_types: ['transfer.*'] }) });
    idx.apply({ kind: 'put', webhook: snap({ id: 'w3', status: 'PENDING' }) });
    idx.apply({ kind: 'put', webhook: snap({ id: 'w4', account_id: 'a2' }) });
    expect(idx.subscribers('a1', 'identity.approved').map((w) => w.id)).toEqual(['w1']);
    expect(idx.subscribers('a2', 'identity.approved').map((w) => w.id)).toEqual(['w4']);
  });

  it('ignores stale versions and forgets deleted webhooks', () => {
    const idx = new WebhookIndex();
    idx.apply({ kind: 'put', webhook: snap({ version: 2, rate_limit: 5 }) });
    idx.apply({ kind: 'put', webhook: snap({ version: 1, rate_limit: 9 }) });
    expect(idx.get('w1')?.rate_limit).toBe(5);
    idx.apply({ kind: 'delete', id: 'w1' });
    expect(idx.subscribers('a1', 'identity.approved')).toEqual([]);
  });

  it('resyncs against a full snapshot: what the snapshot lacks is dropped and announced', () => {
    const idx = new WebhookIndex();
    const deleted: string[] = [];
    idx.onChange((c) => c.kind === 'delete' && deleted.push(c.id));
    idx.apply({ kind: 'put', webhook: snap({}) });
    idx.apply({ kind: 'put', webhook: snap({ id: 'w2' }) });
    expect(idx.retainOnly(new Set(['w2']))).toBe(1);
    expect(idx.get('w1')).toBeUndefined();
    expect(deleted).toEqual(['w1']);
    expect(idx.subscribers('a1', 'identity.approved').map((w) => w.id)).toEqual(['w2']);
  });
});
