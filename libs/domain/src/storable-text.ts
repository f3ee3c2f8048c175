// eslint-disable-next-line no-control-regex -- finding NUL is the point
const NUL = /\u0000/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** The same, for test(): a global pattern's test() starts where its last match ended. */
const HAS_LONE_SURROGATE = new RegExp(LONE_SURROGATE.source);

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

/**
 * Why PostgreSQL cannot store this text as it is (a NUL, a lone surrogate), or undefined: for input
 * that is refused rather than mended (see storableText).
 */
export function unstorableReason(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain NUL characters';
  if (HAS_LONE_SURROGATE.test(text)) return 'must not contain a lone UTF-16 surrogate';
  return undefined;
}
