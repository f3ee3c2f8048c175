import { ValidationFailed } from '@app/domain';
import { StrictValidationPipe } from '@app/http-common';
import { applyPatch, normaliseSpec, WebhookSpec } from './webhook-spec';
import { CreateWebhookDto, UpdateWebhookDto } from './webhook.dto';

const pipe = new StrictValidationPipe();
const check = (dto: typeof CreateWebhookDto | typeof UpdateWebhookDto, body: unknown) => pipe.transform(body, { type: 'body', metatype: dto });
/** The fields a refusal names, or [] when the body passes. */
const refused = async (dto: typeof CreateWebhookDto | typeof UpdateWebhookDto, body: unknown): Promise<string[]> => {
  try {
    await check(dto, body);
    return [];
  } catch (err) {
    if (!(err instanceof ValidationFailed)) throw err;
    return (err.meta.errors as { field: string }[]).map((e) => e.field);
  }
};

const valid = {
  name: 'payments',
  url: 'https://hooks.example.com/x',
  auth_type: 'API_KEY',
  api_key: { header: 'X-Api-Key', key: 'secret' },
  event_types: ['identity.approved', 'transfer.*'],
  rate_limit: 10,
};

describe('webhook field rules (one set, for create and update)', () => {
  it.each([
    ['name', ''],
    ['name', '   '],
    ['name', 'x'.repeat(101)],
    ['url', 'http://hooks.example.com/x'],
    ['url', 'https://user:pw@hooks.example.com/x'],
    ['url', `https://hooks.example.com/${'x'.repeat(2048)}`],
    ['auth_type', 'BASIC'],
    ['event_types', []],
    ['event_types', ['nope.unknown']],
    ['rate_limit', 0],
    ['rate_limit', 101],
    ['rate_limit', 1.5],
    ['rate_limit', '10'],
  ])('%s = %j is refused by create and update alike', async (field, value) => {
    expect(await refused(CreateWebhookDto, { ...valid, [field]: value })).toContain(field);
    expect(await refused(UpdateWebhookDto, { [field]: value })).toContain(field);
  });

  it('create needs every required field; update takes any subset', async () => {
    expect(await refused(CreateWebhookDto, valid)).toEqual([]);
    expect(await refused(CreateWebhookDto, { name: 'x' })).toEqual(expect.arrayContaining(['url', 'auth_type', 'event_types']));
    expect(await refused(UpdateWebhookDto, {})).toEqual([]);
    expect(await refused(UpdateWebhookDto, { rate_limit: 20 })).toEqual([]);
  });

  it('update refuses null for a field that cannot be cleared, but takes null credentials', async () => {
    for (const field of ['name', 'url', 'auth_type', 'event_types', 'rate_limit']) expect(await refused(UpdateWebhookDto, { [field]: null })).toContain(field);
    expect(await refused(UpdateWebhookDto, { api_key: null, oauth: null })).toEqual([]);
  });

  it('refuses a reserved or malformed API key header and unknown fields', async () => {
    expect(await refused(CreateWebhookDto, { ...valid, api_key: { header: 'webhook-signature', key: 'k' } })).toContain('api_key.header');
    expect(await refused(UpdateWebhookDto, { api_key: { header: 'bad header', key: 'k' } })).toContain('api_key.header');
    expect(await refused(UpdateWebhookDto, { colour: 'blue' })).toContain('colour');
  });
});

describe('webhook rules across fields', () => {
  const base: WebhookSpec = normaliseSpec({ ...valid, auth_type: 'API_KEY' } as never);

  it('fills the default rate limit and drops duplicate subscriptions', () => {
    const spec = normaliseSpec({ ...valid, rate_limit: undefined, event_types: ['identity.approved', 'identity.approved'] } as never);
    expect(spec.rate_limit).toBe(10);
    expect(spec.event_types).toEqual(['identity.approved']);
  });

  it('needs the credentials of its auth type and no others', () => {
    expect(() => normaliseSpec({ ...valid, api_key: null } as never)).toThrow(ValidationFailed);
    expect(() => normaliseSpec({ ...valid, oauth: { client_url: 'https://a.example.com', client_id: 'i', client_secret: 's' } } as never)).toThrow(ValidationFailed);
  });

  it('a patch that switches the auth type brings the new credentials and drops the old', () => {
    expect(() => applyPatch(base, { auth_type: 'OAUTH' })).toThrow(ValidationFailed);
    const oauth = { client_url: 'https://auth.example.com/token', client_id: 'id', client_secret: 'secret' };
    expect(applyPatch(base, { auth_type: 'OAUTH', oauth })).toMatchObject({ auth_type: 'OAUTH', oauth, api_key: null });
  });

  it('an empty patch changes nothing and is refused', () => {
    expect(() => applyPatch(base, {})).toThrow(expect.objectContaining({ code: 'empty-patch' }));
    expect(() => applyPatch(base, { name: null as never })).toThrow(expect.objectContaining({ code: 'empty-patch' }));
  });
});
