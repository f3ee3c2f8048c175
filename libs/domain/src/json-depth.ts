/**
 * The nesting depth of a JSON text, found by one pass over its characters (no recursion, no
 * parse), so untrusted depth is refused before anything recursive (a parser's reviver,
 * JSON.stringify, class-transformer, Postgres' jsonb input) ever sees it. Stops counting past
 * `stopAt`. Brackets inside strings are ignored; invalid JSON is left to the parser.
 */
export function jsonDepth(text: string, stopAt = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) {
        max = depth;
        if (max > stopAt) return max;
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return max;
}
