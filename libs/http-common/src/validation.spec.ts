import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { CanonicalUuid, findRefusedInput, UuidParam } from './validation';

describe('input refused before validation', () => {
  it.each([
    ['a NUL in a value', { name: 'a\u0000b' }, 'name'],
    ['a lone high surrogate in a nested value', { oauth: { client_id: 'x\uD800' } }, 'oauth.client_id'],
    ['a lone low surrogate in an array item', { event_types: ['identity.*', '\uDC00y'] }, 'event_types.1'],
    ['a lone surrogate in a key', { 'a\uDC00': 1 }, 'body'],
    ['a key named like a member of every object', { name: 'n', toString: 1 }, 'toString'],
    ['a nested one', { api_key: { header: 'X', hasOwnProperty: 'k' } }, 'api_key.hasOwnProperty'],
    ['an own __proto__ key, as JSON.parse makes it', JSON.parse('{"name":"n","__proto__":{"x":1}}') as unknown, '__proto__'],
    ['constructor', JSON.parse('{"constructor":{"name":"x"}}') as unknown, 'constructor'],
  ])('%s', (_label, input, field) => {
    expect(findRefusedInput(input)?.field).toBe(field);
  });

  it('lets well-formed input through, surrogate pairs included', () => {
    expect(findRefusedInput({ name: 'payments 💸', event_types: ['identity.*'], api_key: { header: 'X-Api-Key', key: 'k' } })).toBeUndefined();
    expect(findRefusedInput(undefined)).toBeUndefined();
    expect(findRefusedInput(Object.assign(Object.create(null) as object, { limit: '10' }))).toBeUndefined();
  });
});

describe('UuidParam', () => {
  const meta = { type: 'param' as const, data: 'id' };

  it('gives a UUID in its one written form, so one webhook is one id everywhere', async () => {
    await expect(UuidParam.transform('5F0C8A9E-8D1B-4C1E-9A53-8A0E6C1D2B3C', meta)).resolves.toBe('5f0c8a9e-8d1b-4c1e-9a53-8a0e6c1d2b3c');
  });

  it('refuses what is not a UUID', async () => {
    await expect(UuidParam.transform('not-a-uuid', meta)).rejects.toMatchObject({ meta: { errors: [{ field: 'id' }] } });
  });
});

describe('CanonicalUuid', () => {
  class Body {
    @CanonicalUuid() webhook_id!: string;
  }

  it('gives a body UUID in its one written form, and refuses what is not one', () => {
    const body = plainToInstance(Body, { webhook_id: '5F0C8A9E-8D1B-4C1E-9A53-8A0E6C1D2B3C' });
    expect(body.webhook_id).toBe('5f0c8a9e-8d1b-4c1e-9a53-8a0e6c1d2b3c');
    expect(validateSync(body)).toEqual([]);
    expect(validateSync(plainToInstance(Body, { webhook_id: 'nope' }))).toHaveLength(1);
  });
});
