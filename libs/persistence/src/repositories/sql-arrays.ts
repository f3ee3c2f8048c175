/**
 * PostgreSQL array literals for the parameters of hot batch statements (`$n::uuid[]`, `int[]`,
 * `bool[]`, `timestamptz[]`). The driver quotes and escapes every element of an array parameter (two
 * regex replaces each, a Date formatted field by field), which a statement of hundreds of rows pays
 * per row. These build the literal at once, and only from values that cannot end or split an
 * element: a value of the wrong shape is refused, never passed through.
 */

/** Only hex digits and dashes, 36 of them (PostgreSQL checks the rest of the uuid format). A loop: a regex test here was 1 % of a busy node. */
function uuidShaped(id: unknown): boolean {
  if (typeof id !== 'string' || id.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = id.charCodeAt(i);
    const lower = c | 0x20;
    if (c !== 0x2d && (c < 0x30 || c > 0x39) && (lower < 0x61 || lower > 0x66)) return false;
  }
  return true;
}

export function uuidArray(ids: readonly string[]): string {
  for (const id of ids) if (!uuidShaped(id)) throw new TypeError(`not a uuid: ${JSON.stringify(String(id).slice(0, 40))}`);
  return `{${ids.join(',')}}`;
}

export function intArray(values: readonly (number | null)[]): string {
  return `{${values
    .map((v) => {
      if (v === null) return 'NULL';
      if (!Number.isSafeInteger(v)) throw new TypeError(`not an integer: ${String(v)}`);
      return String(v);
    })
    .join(',')}}`;
}

export function boolArray(values: readonly boolean[]): string {
  return `{${values.map((v) => (v ? 't' : 'f')).join(',')}}`;
}

/** Instants as ISO 8601 UTC (no comma, brace, quote or space in them). */
export function timestampArray(values: readonly (Date | null)[]): string {
  return `{${values
    .map((v) => {
      if (v === null) return 'NULL';
      if (!(v instanceof Date) || Number.isNaN(v.getTime())) throw new TypeError(`not a time: ${String(v)}`);
      return v.toISOString();
    })
    .join(',')}}`;
}

/**
 * Texts quoted as array elements: inside double quotes only a double quote and a backslash are
 * special, so a text with neither (almost every status, error and excerpt) is quoted as it is; the others are escaped.
 */
export function textArray(values: readonly (string | null)[]): string {
  return `{${values
    .map((v) => {
      if (v === null) return 'NULL';
      if (typeof v !== 'string') throw new TypeError(`not a text: ${String(v)}`);
      return v.includes('"') || v.includes('\\') ? `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : `"${v}"`;
    })
    .join(',')}}`;
}
