import { randomUUID } from 'node:crypto';
import { checkEvent } from './event-validation';

const good = () => ({
  id: randomUUID(),
  account_id: randomUUID(),
  type: 'identity.approved',
  time: '2026-11-27T10:00:00Z',
  object_type: 'identity_summary_status_change',
  object: { identity_id: 'x' },
});

describe('checkEvent', () => {
  it('accepts a well-formed event and normalises its time', () => {
    const r = checkEvent(JSON.stringify(good()), 'identity.approved');
    expect(r.ok && r.event.time).toBe('2026-11-27T10:00:00.000Z');
  });

  it.each([
    ['not JSON', '{', 'malformed'],
    ['an array', '[]', 'malformed'],
    ['a bad id', JSON.stringify({ ...good(), id: 'x' }), 'invalid'],
    ['a bad account', JSON.stringify({ ...good(), account_id: 7 }), 'invalid'],
    ['an unknown type', JSON.stringify({ ...good(), type: 'identity.exploded' }), 'unknown-type'],
    ['a wrong object type', JSON.stringify({ ...good(), object_type: 'transfer_status_change' }), 'invalid'],
    ['a bad time', JSON.stringify({ ...good(), time: 'yesterday' }), 'invalid'],
    ['no object', JSON.stringify({ ...good(), object: undefined }), 'invalid'],
    ['a NUL character', JSON.stringify({ ...good(), object: { note: 'a\u0000b' } }), 'invalid'],
    ['an object nested 65 levels deep', JSON.stringify({ ...good(), object: { a: JSON.parse(`${'['.repeat(63)}${']'.repeat(63)}`) } }), 'invalid'],
    ['an object nested 100,000 levels deep', JSON.stringify(good()).replace('{"identity_id":"x"}', `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`), 'invalid'],
    ['a time outside years 1-9999', JSON.stringify({ ...good(), time: '-271821-04-20T00:00:00Z' }), 'invalid'],
  ])('refuses %s', (_label, raw, code) => {
    const r = checkEvent(raw);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.code).toBe(code);
  });

  it('accepts 64 levels, and brackets inside strings are not depth', () => {
    expect(checkEvent(JSON.stringify({ ...good(), object: { a: JSON.parse(`${'['.repeat(62)}${']'.repeat(62)}`), s: '['.repeat(500) } })).ok).toBe(true);
  });

  it('refuses a type that does not match the subject', () => {
    expect(checkEvent(JSON.stringify(good()), 'identity.denied').ok).toBe(false);
  });
});
