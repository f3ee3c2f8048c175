import { exceedsJsonDepth } from '@app/domain';

/** Deepest nesting of objects and arrays a request body may have. */
export const MAX_BODY_DEPTH = 32;

/** Whether a raw request body nests deeper than the limit (see exceedsJsonDepth: no recursion). */
export function exceedsDepth(raw: Uint8Array, max = MAX_BODY_DEPTH): boolean {
  return exceedsJsonDepth(raw, max);
}
