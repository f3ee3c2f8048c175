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

  it("moves a webhook whose account changed, and keeps an account's webhooks in first-seen order", () => {
    const idx = new WebhookIndex();
    idx.apply({ kind: 'put', webhook: snap({}) });
    idx.apply({ kind: 'put', webhook: snap({ id: 'w2' }) });
    idx.apply({ kind: 'put', webhook: snap({ version: 2, url: 'https://y.example.com' }) });
    expect(idx.subscribers('a1', 'identity.approved').map((w) => [w.id, w.url])).toEqual([
      ['w1', 'https://y.example.com'],
      ['w2', 'https://x.example.com'],
    ]);
    idx.apply({ kind: 'put', webhook: snap({ version: 3, account_id: 'a2' }) });
    expect(idx.subscribers('a1', 'identity.approved').map((w) => w.id)).toEqual(['w2']);
    expect(idx.subscribers('a2', 'identity.approved').map((w) => w.id)).toEqual(['w1']);
  });

  it('keeps only what delivery needs, sharing equal event-type lists between webhooks', () => {
    const idx = new WebhookIndex();
    idx.apply({ kind: 'put', webhook: snap({ event_types: ['identity.*', 'transfer.created'] }) });
    idx.apply({ kind: 'put', webhook: snap({ id: 'w2', event_types: ['identity.*', 'transfer.created'] }) });
    expect(idx.get('w1')!.event_types).toBe(idx.get('w2')!.event_types);
    expect(idx.get('w1')).not.toHaveProperty('updated_at');
    expect(idx.get('w1')).toMatchObject({ api_key: { header: 'X', key_enc: 'k' }, signing_secret_enc: 's', rate_limit: 10, version: 1 });
  });
});
