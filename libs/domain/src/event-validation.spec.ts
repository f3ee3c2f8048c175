import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
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
    ['a lone surrogate in a value', JSON.stringify({ ...good(), object: { note: 'a\uD800b' } }), 'invalid'],
    ['a lone surrogate in a key', `{"id":"${randomUUID()}","object":{"\\udc00":1}}`, 'invalid'],
    ['100,000 levels of nesting', JSON.stringify(good()).replace('{"identity_id":"x"}', `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`), 'too-deep'],
    [
      'thousands of levels of nesting',
      JSON.stringify({ ...good(), object: { n: '[['.repeat(2500) + ']]'.repeat(2500) } }).replace(/"\[\[.*\]\]"/, '[['.repeat(2500) + ']]'.repeat(2500)),
      'too-deep',
    ],
    ['a body over the size cap', JSON.stringify({ ...good(), object: { pad: 'x'.repeat(300 * 1024) } }), 'too-large'],
    ['a time outside years 1-9999', JSON.stringify({ ...good(), time: '-271821-04-20T00:00:00Z' }), 'invalid'],
  ])('refuses %s', (_label, raw, code) => {
    const r = checkEvent(raw);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.code).toBe(code);
  });

  it('accepts 32 levels and refuses 33; brackets inside strings are text, not depth', () => {
    const nested = (levels: number) => JSON.parse(`${'['.repeat(levels)}${']'.repeat(levels)}`);
    expect(checkEvent(JSON.stringify({ ...good(), object: { a: nested(30), s: '[{'.repeat(5000) } })).ok).toBe(true);
    const r = checkEvent(JSON.stringify({ ...good(), object: { a: nested(31) } }));
    expect(!r.ok && r.code).toBe('too-deep');
  });

  it('never throws and never accepts what Postgres cannot store, whatever the text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.json({ depthSize: 'large' }),
          fc.jsonValue().map((v) => JSON.stringify({ ...good(), object: { v } })),
        ),
        (raw) => {
          const r = checkEvent(raw);
          if (r.ok) expect(JSON.stringify(r.event.object)).not.toMatch(/\\u0000|\\ud[89a-f]/i);
          else expect(r.reason.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 2000, seed: 42 },
    );
  });

  it('refuses a type that does not match the subject', () => {
    expect(checkEvent(JSON.stringify(good()), 'identity.denied').ok).toBe(false);
  });
});
