/**
 * Whether JSON text nests objects/arrays deeper than `max`, found by one pass over the raw text
 * (brackets inside strings do not count) before anything parses it. JSON.stringify, validators and
 * transformers recurse once per level, so outside input of untrusted depth is refused before they
 * see it; this scan holds no stack. Works on UTF-8 bytes and on strings alike: the characters it
 * looks at are single ASCII code units in both.
 */
export function exceedsJsonDepth(raw: Uint8Array | string, max: number): boolean {
  const at = typeof raw === 'string' ? (i: number) => raw.charCodeAt(i) : (i: number) => raw[i];
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = at(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}
