/** Deepest nesting of objects and arrays a request body may have. */
export const MAX_BODY_DEPTH = 32;

/**
 * Whether JSON text nests objects/arrays deeper than `max`, found by one pass over the raw bytes
 * (brackets inside strings do not count) before anything parses it. Validation and
 * transformation (class-transformer, class-validator) recurse once per level, so an untrusted
 * depth must be refused before they run; this scan itself holds no stack.
 */
export function exceedsDepth(raw: Uint8Array, max = MAX_BODY_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}
