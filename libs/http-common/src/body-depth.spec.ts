import { exceedsDepth, MAX_BODY_DEPTH } from './body-depth';

const bytes = (s: string) => Buffer.from(s, 'utf8');
const nested = (n: number, open = '[', close = ']') => `${open.repeat(n)}${close.repeat(n)}`;

describe('exceedsDepth', () => {
  it('accepts bodies up to the limit and refuses one level more, for arrays and objects', () => {
    expect(exceedsDepth(bytes(nested(MAX_BODY_DEPTH)))).toBe(false);
    expect(exceedsDepth(bytes(nested(MAX_BODY_DEPTH + 1)))).toBe(true);
    expect(exceedsDepth(bytes(`${'{"a":'.repeat(MAX_BODY_DEPTH + 1)}1${'}'.repeat(MAX_BODY_DEPTH + 1)}`))).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    const s = JSON.stringify({ name: `"${'['.repeat(1000)}\\"{{{` });
    expect(exceedsDepth(bytes(s))).toBe(false);
  });

  it('scans a depth of a million without a stack', () => {
    expect(exceedsDepth(bytes(nested(1_000_000)))).toBe(true);
  });

  it('counts siblings once, not as depth', () => {
    expect(exceedsDepth(bytes(JSON.stringify({ a: Array.from({ length: 1000 }, () => [[1]]) })))).toBe(false);
  });
});
