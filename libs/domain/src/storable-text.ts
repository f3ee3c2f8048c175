// eslint-disable-next-line no-control-regex -- finding NUL is the point
const NUL = /\u0000/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text from outside (a consumer's response, an error message, a publisher's field) made fit for a
 * PostgreSQL text column: no NUL characters (Postgres refuses them), no lone UTF-16 surrogates
 * (they are not valid UTF-8), at most `maxChars` characters without splitting a surrogate pair.
 */
export function storableText(text: string, maxChars = Infinity): string {
  let s = text.replace(NUL, '\uFFFD').replace(LONE_SURROGATE, '\uFFFD');
  if (s.length > maxChars) {
    let end = maxChars;
    const last = s.charCodeAt(end - 1);
    if (last >= 0xd800 && last <= 0xdbff) end--; // do not cut a pair in two
    s = s.slice(0, end);
  }
  return s;
}
