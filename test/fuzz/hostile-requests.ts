import fc, { Arbitrary } from 'fast-check';
import type { Route } from './app-routes';

export interface FuzzFixtures {
  /** Tokens of the fuzzed account, one per role set (the first has every role). */
  tokens: string[];
  /** Tokens of another account. */
  otherTokens: string[];
  /** Ids of the fuzzed account's webhooks, events and approval requests. */
  ownIds: string[];
  /** The other account's. */
  otherIds: string[];
}

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT', 'PROPFIND', 'SEARCH', 'X-WHATEVER'];

/** Strings that hurt: NUL, lone surrogates, huge, unicode, percent junk, SQL and prototype names. */
const nastyString: Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\ud800',
    '\udfff',
    'x\ud83d',
    '\ufeff',
    '\u202e',
    '%',
    '%00',
    '%ZZ',
    '%E0%A4%A',
    '../..',
    "' or 1=1 --",
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'NaN',
    'Infinity',
    '-0',
    '1e309',
    'null',
    'true',
    '[]',
    '{}',
    'identity.*',
    '*',
    '>',
  ),
  fc.integer({ min: 1, max: 70_000 }).map((n) => 'x'.repeat(n)),
);

const nastyNumber: Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 0.5, 100, 101, 5, 6, 1e308, -1e308, 2 ** 53 + 2, 2 ** 31, -(2 ** 31) - 1, 5e-324),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const odd: Arbitrary<unknown> = fc.oneof(nastyString, nastyNumber, fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 3 }));

const timestamp: Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '2026-01-01T00:00:00+24:00',
    '2026-01-01T00:00:00-23:59',
    '2026-01-01T00:00:00+00:60',
    '2026-01-01T00:00:00+99:99',
    '0001-01-01T00:00:00+01:00',
    '9999-12-31T23:59:59-01:00',
    '2026-02-30T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T00:00:60Z',
    '2026-01-01T00:00:00.123456789Z',
    '2026-01-01',
    '2026-01-01T00:00:00',
    'yesterday',
    '0000-01-01T00:00:00Z',
    '275760-09-13T00:00:00Z',
    '1969-12-31T23:59:59.999Z',
  ),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc
    .tuple(
      fc.integer({ min: 0, max: 9999 }),
      fc.integer({ min: 0, max: 13 }),
      fc.integer({ min: 0, max: 32 }),
      fc.integer({ min: 0, max: 25 }),
      fc.integer({ min: -30, max: 30 }),
      fc.integer({ min: 0, max: 99 }),
    )
    .map(([y, mo, d, h, oh, om]) => `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:00:00${oh < 0 ? '-' : '+'}${pad(Math.abs(oh))}:${pad(om)}`),
);

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

const cursor: Arbitrary<string> = fc.oneof(
  fc
    .record({ t: fc.oneof(timestamp, odd), id: fc.oneof(fc.uuid(), fc.constantFrom('1', '999999999999999999', '-1', '1e3'), nastyString) })
    .map((c) => Buffer.from(JSON.stringify(c)).toString('base64url')),
  fc.jsonValue({ maxDepth: 2 }).map((v) => Buffer.from(JSON.stringify(v) ?? '').toString('base64url')),
  nastyString,
);

const QUERY_KEYS = ['limit', 'page_cursor', 'order', 'type', 'is_test', 'status', 'created_at.lt', 'created_at.lte', 'created_at.eq', 'created_at.gte', 'created_at.gt'];

const queryValue = (key: string): Arbitrary<string> => {
  const common = fc.oneof(nastyString, nastyNumber.map(String));
  if (key === 'limit') return fc.oneof(fc.constantFrom('1', '100', '0', '101', '1e2', '99999999999999999999', '-1', '+5', '05', ' 5'), common);
  if (key === 'page_cursor') return cursor;
  if (key.startsWith('created_at')) return fc.oneof(timestamp, common);
  if (key === 'order') return fc.oneof(fc.constantFrom('ASC', 'desc', 'Asc'), common);
  if (key === 'status') return fc.oneof(fc.constantFrom('PENDING', 'APPROVED', 'pending'), common);
  if (key === 'type') return fc.oneof(fc.constantFrom('identity.approved', 'identity.*', 'transfer.crypto_deposit.completed'), common);
  return common;
};

const queryString: Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constant('') },
  {
    weight: 6,
    arbitrary: fc
      .array(
        fc
          .oneof(
            fc.constantFrom(...QUERY_KEYS),
            nastyString.filter((s) => s.length < 200),
          )
          .chain((k) =>
            queryValue(k)
              .filter((v) => v.length < 3000)
              .map((v) => [k, v] as const),
          ),
        { maxLength: 6 },
      )
      .map((pairs) => pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&')),
  },
  // Raw, unencoded junk: broken percent escapes, repeated keys, separators only.
  // beyond what the HTTP parser takes (about 16 KiB of head)
  { weight: 1, arbitrary: fc.integer({ min: 3_000, max: 40_000 }).map((n) => `page_cursor=${'A'.repeat(n)}`) },
  { weight: 1, arbitrary: fc.constantFrom('limit=1&limit=2', '%', '=&=&', 'a[b]=1&a[c]=2', 'created_at.gte=%ZZ', '&&&', 'limit', 'page_cursor=%E0%A4%A') },
);

function enc(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '?')) + '%ED%A0%80'; // a lone surrogate as raw UTF-8 bytes
  }
}

/** Body field names of every route, so near-valid bodies hit real validation paths. */
const FIELDS = ['name', 'url', 'auth_type', 'api_key', 'oauth', 'event_types', 'rate_limit', 'webhook_id', 'event_type', 'enabled', 'required_approvals'];

const validish: Record<string, Arbitrary<unknown>> = {
  name: fc.string({ minLength: 1, maxLength: 20 }),
  url: fc.constantFrom('https://hooks.example.com/x', 'https://a.example.com', 'http://hooks.example.com', 'https://u:p@x.example.com', 'https://[::1]/', 'https://127.0.0.1:1/'),
  auth_type: fc.constantFrom('API_KEY', 'OAUTH', 'BASIC', 'api_key'),
  api_key: fc.record({ header: fc.constantFrom('X-Api-Key', 'Content-Type', 'x y'), key: fc.string({ maxLength: 10 }) }),
  oauth: fc.record({
    client_url: fc.constantFrom('https://auth.example.com/token', 'ftp://x'),
    client_id: fc.string({ maxLength: 10 }),
    client_secret: fc.string({ maxLength: 10 }),
  }),
  event_types: fc.array(fc.constantFrom('identity.approved', 'identity.*', 'transfer.*', 'nope', '*'), { maxLength: 4 }),
  rate_limit: fc.integer({ min: 0, max: 101 }),
  webhook_id: fc.uuid(),
  event_type: fc.constantFrom('identity.approved', 'identity.*', 'nope'),
  enabled: fc.boolean(),
  required_approvals: fc.integer({ min: 0, max: 6 }),
};

/** Arrays or objects nested `depth` levels deep, as raw JSON text (no recursion to build it). */
const deepJson: Arbitrary<string> = fc
  .tuple(fc.constantFrom(10, 100, 1_000, 5_000, 10_000, 20_000, 30_000), fc.constantFrom('array', 'object', 'mixed'), fc.constantFrom(...FIELDS, 'x'))
  .map(([depth, kind, field]) => {
    const open = kind === 'array' ? '[' : kind === 'object' ? '{"a":' : '[{"a":';
    const close = kind === 'array' ? ']' : kind === 'object' ? '}' : '}]';
    const n = kind === 'mixed' ? Math.floor(depth / 2) : depth;
    return `{"${field}":${open.repeat(n)}1${close.repeat(n)}}`;
  });

const jsonBody = (fixtures: FuzzFixtures): Arbitrary<string> =>
  fc.oneof(
    // arbitrary JSON of any shape
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
    // near-valid: the right field names, hostile or plausible values
    fc
      .dictionary(fc.constantFrom(...FIELDS), fc.constant(null), { maxKeys: 6 })
      .chain((shape) => fc.record(Object.fromEntries(Object.keys(shape).map((k) => [k, fc.oneof(validish[k], odd, fc.constantFrom(...fixtures.ownIds, ...fixtures.otherIds))]))))
      .map((o) => JSON.stringify(o)),
    // huge arrays
    fc
      .tuple(fc.constantFrom(...FIELDS), fc.integer({ min: 100, max: 20_000 }))
      .map(([f, n]) => JSON.stringify({ [f]: Array.from({ length: n }, () => 'identity.approved') }).slice(0, 65_000)),
    deepJson,
    // numbers JSON.stringify cannot write
    fc
      .tuple(
        fc.constantFrom(...FIELDS),
        fc.constantFrom('1e309', '-1e309', '-0', '1e-400', '0.0000000000000000000001', '123456789012345678901234567890', 'NaN', 'Infinity', '01', '1.', '.5'),
      )
      .map(([f, n]) => `{"${f}": ${n}}`),
    // duplicate keys, a BOM, trailing garbage, lone surrogate escapes
    fc.constantFrom('{"name":"a","name":"b"}', '\ufeff{}', '{} x', '{"name":"\\ud800"}', '{"name":"\\u0000"}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}', ''),
  );

const body = (fixtures: FuzzFixtures): Arbitrary<{ body?: Buffer | string; contentType?: string }> =>
  fc.oneof(
    { weight: 2, arbitrary: fc.constant({}) },
    { weight: 6, arbitrary: fc.record({ body: jsonBody(fixtures), contentType: contentType() }) },
    // raw bytes, invalid UTF-8 included
    { weight: 2, arbitrary: fc.record({ body: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), contentType: contentType() }) },
  );

function contentType(): Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant('application/json') },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        undefined,
        'application/merge-patch+json',
        'application/problem+json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json; charset=utf-16',
        'application/json; charset=latin1',
        'application/json; charset=nope',
        'application/json;;;',
        'garbage',
        '*/*',
        'application/',
      ),
    },
  );
}

const pathId = (fixtures: FuzzFixtures): Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...fixtures.ownIds) },
    { weight: 2, arbitrary: fc.constantFrom(...fixtures.otherIds) },
    { weight: 1, arbitrary: fc.uuid().map((u) => u) },
    { weight: 1, arbitrary: fc.constantFrom(...fixtures.ownIds).map((u) => u.toUpperCase()) },
    { weight: 3, arbitrary: nastyString.filter((s) => s.length < 3000).map(enc) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '%',
        '%ZZ',
        '%E0%A4%A',
        '%00',
        '..%2F..',
        '%2F',
        '%ED%A0%80',
        '%C0%AF',
        '%FF%FE',
        '00000000-0000-0000-0000-000000000000',
        'ffffffff-ffff-ffff-ffff-ffffffffffff',
        'a'.repeat(9000),
      ),
    },
  );

const authorization = (fixtures: FuzzFixtures): Arbitrary<string | undefined> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...fixtures.tokens).map((t) => `Bearer ${t}`) },
    { weight: 2, arbitrary: fc.constantFrom(...fixtures.otherTokens).map((t) => `Bearer ${t}`) },
    {
      weight: 3,
      arbitrary: fc.oneof(
        fc.constant(undefined),
        fc.constantFrom('', 'Bearer', 'Bearer ', 'bearer wht_nope', 'Basic dXNlcjpwYXNz', `Bearer ${'a'.repeat(8000)}`, 'Bearer a b', 'Bearer \u00ff\u00fe'),
        fc.constantFrom(...fixtures.tokens).map((t) => `Bearer ${t.slice(0, -1)}`),
        fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 }).map((s) => `Bearer ${s}`),
      ),
    },
  );

const oddHeaders: Arbitrary<Record<string, string>> = fc.record(
  {
    accept: fc.constantFrom('application/json', 'text/html', '*/*', 'application/xml', 'garbage;;q=x', ''),
    'content-encoding': fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'nope'),
    'accept-encoding': fc.constantFrom('gzip', 'br, deflate', '*;q=0'),
    'x-forwarded-for': fc.constantFrom('1.2.3.4', 'garbage'),
    'if-none-match': fc.constantFrom('*', 'W/"x"'),
  },
  { requiredKeys: [] },
);

const extraHeaders: Arbitrary<Record<string, string>> = fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: oddHeaders });

/** One hostile request aimed at `route` (sometimes with another method). */
export function hostileRequest(route: Route, fixtures: FuzzFixtures): Arbitrary<FuzzRequest> {
  return fc
    .record({
      method:
        route.method === '*' ? fc.constantFrom(...METHODS) : fc.oneof({ weight: 8, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) }),
      id: pathId(fixtures),
      query: queryString,
      body: body(fixtures),
      authorization: authorization(fixtures),
      extra: extraHeaders,
      // now and then the path itself is bent: a trailing slash, a doubled one, a suffix
      suffix: fc.oneof({ weight: 9, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('/', '//', '/x', '.json', '%2F', ';a=b') }),
    })
    .map(({ method, id, query, body: b, authorization: auth, extra, suffix }) => {
      const path = route.path.replace(/:[A-Za-z_]+/g, id) + suffix + (query ? `?${query}` : '');
      const headers: Record<string, string> = { ...extra };
      if (auth !== undefined) headers.authorization = auth;
      if (b.contentType !== undefined && b.body !== undefined) headers['content-type'] = b.contentType;
      return { method, path, headers, body: b.body };
    });
}
