import type { EntityManager } from '@mikro-orm/postgresql';
import { SecretBox, SecretOpenError } from '@app/crypto';
import type { OutboxEntry, Webhook } from '@app/persistence';
import { WebhookStore } from './webhook-store';

const OLD = Buffer.alloc(32, 1);
const NEW = Buffer.alloc(32, 2);
const ID = '0b5e7c4c-8a59-4d62-9d0e-3f7a3a3f0a11';

/** A webhook row as the old key sealed it. */
function row(deletedAt: Date | null = null): Webhook {
  const old = new SecretBox(OLD);
  return {
    id: ID,
    accountId: '6f1d3c1e-8f0a-4f43-9a43-2f3c9d1b7a10',
    url: 'https://hooks.example.com/x',
    authType: 'API_KEY',
    apiKeyHeader: 'X-Api-Key',
    apiKeyEnc: old.seal('key-1234', { owner: ID, field: 'api_key' }),
    oauthClientUrl: null,
    oauthClientId: null,
    oauthClientSecretEnc: null,
    eventTypes: ['identity.approved'],
    rateLimit: 10,
    status: 'ACTIVE',
    signingSecretEnc: old.seal('whsec_abc', { owner: ID, field: 'signing_secret' }),
    version: 3,
    updatedAt: new Date(),
    deletedAt,
  } as unknown as Webhook;
}

/** What the store stages in the caller's transaction. */
function fakeEm() {
  const persisted: OutboxEntry[] = [];
  const em = {
    assign: (entity: object, data: object) => Object.assign(entity, data),
    create: (_entity: unknown, data: OutboxEntry) => data,
    persist: (entity: OutboxEntry) => persisted.push(entity),
  } as unknown as EntityManager;
  return { em, persisted };
}

describe('WebhookStore.reseal', () => {
  const rotated = new WebhookStore(new SecretBox(NEW, [OLD]));

  it('seals a live webhook again under the current key, with a new version and an outbox entry delivery nodes read', () => {
    const w = row();
    const { em, persisted } = fakeEm();
    expect(rotated.reseal(em, w)).toBe(true);
    const box = new SecretBox(NEW);
    expect(box.open(w.apiKeyEnc!, { owner: ID, field: 'api_key' })).toBe('key-1234');
    expect(box.open(w.signingSecretEnc, { owner: ID, field: 'signing_secret' })).toBe('whsec_abc');
    expect(w.oauthClientSecretEnc).toBeNull();
    expect(Number(w.version)).toBe(4);
    expect(persisted).toEqual([expect.objectContaining({ webhookId: ID, op: 'PUT', payload: expect.objectContaining({ version: 4, signing_secret_enc: w.signingSecretEnc }) })]);
  });

  it('a deleted webhook is re-sealed but never put back in the bucket', () => {
    const w = row(new Date());
    const { em, persisted } = fakeEm();
    expect(rotated.reseal(em, w)).toBe(true);
    expect(Number(w.version)).toBe(4);
    expect(persisted).toEqual([]);
  });

  it('a webhook already under the current key is left as it is (a second run changes nothing)', () => {
    const w = row();
    rotated.reseal(fakeEm().em, w);
    const before = { ...w };
    const { em, persisted } = fakeEm();
    expect(rotated.reseal(em, w)).toBe(false);
    expect(w).toEqual(before);
    expect(persisted).toEqual([]);
  });

  it('a secret no configured key opens changes nothing', () => {
    const w = row();
    const before = { ...w };
    const { em, persisted } = fakeEm();
    expect(() => new WebhookStore(new SecretBox(NEW)).reseal(em, w)).toThrow(SecretOpenError);
    expect(w).toEqual(before);
    expect(persisted).toEqual([]);
  });
});
