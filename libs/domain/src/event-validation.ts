import { isKnownEventType, objectTypeOf } from './event-catalogue';
import { exceedsJsonDepth } from './json-depth';
import { isUuid } from './uuid';

/**
 * Events carry ids and a summary object: anything bigger or deeper is a publisher's mistake, and
 * deeper ones would overflow JSON.stringify (a few thousand levels) downstream.
 */
export const MAX_EVENT_BYTES = 256 * 1024;
export const MAX_EVENT_DEPTH = 32;

export interface ValidEvent {
  id: string;
  account_id: string;
  type: string;
  time: string;
  object_type: string;
  object: Record<string, unknown>;
}

export type EventCheck = { ok: true; event: ValidEvent } | { ok: false; reason: string; code: string };

/** Checks a published event against the publishing contract; the reason goes to the dead-letter record. */
export function checkEvent(raw: string, subjectType?: string): EventCheck {
  if (Buffer.byteLength(raw) > MAX_EVENT_BYTES) return { ok: false, code: 'too-large', reason: `body is larger than ${MAX_EVENT_BYTES} bytes` };
  if (exceedsJsonDepth(raw, MAX_EVENT_DEPTH)) return { ok: false, code: 'too-deep', reason: `body is nested deeper than ${MAX_EVENT_DEPTH} levels` };
  let e: any;
  try {
    e = JSON.parse(raw);
  } catch {
    return { ok: false, code: 'malformed', reason: 'body is not valid JSON' };
  }
  if (!e || typeof e !== 'object' || Array.isArray(e)) return { ok: false, code: 'malformed', reason: 'body is not a JSON object' };
  // Postgres stores neither a NUL character nor a lone UTF-16 surrogate in jsonb; JSON.stringify
  // writes both as \u escapes (and a valid surrogate pair as the character itself).
  const canonical = JSON.stringify(e);
  if (/\\u0000/.test(canonical)) return { ok: false, code: 'invalid', reason: 'body contains a NUL character (\\u0000)' };
  if (/\\ud[89a-f][0-9a-f]{2}/i.test(canonical)) return { ok: false, code: 'invalid', reason: 'body contains a lone UTF-16 surrogate' };
  if (!isUuid(e.id)) return { ok: false, code: 'invalid', reason: 'id must be a UUID' };
  if (!isUuid(e.account_id)) return { ok: false, code: 'invalid', reason: 'account_id must be a UUID' };
  if (typeof e.type !== 'string' || !isKnownEventType(e.type)) return { ok: false, code: 'unknown-type', reason: `type "${e.type}" is not in the catalogue` };
  if (subjectType !== undefined && subjectType !== e.type) return { ok: false, code: 'invalid', reason: `type "${e.type}" does not match the subject` };
  const year = typeof e.time === 'string' ? new Date(e.time).getUTCFullYear() : NaN;
  if (!(year >= 1 && year <= 9999)) return { ok: false, code: 'invalid', reason: 'time must be an RFC 3339 timestamp' };
  const objectType = e.object_type ?? objectTypeOf(e.type);
  if (objectType !== objectTypeOf(e.type)) return { ok: false, code: 'invalid', reason: `object_type must be "${objectTypeOf(e.type)}" for ${e.type}` };
  if (!e.object || typeof e.object !== 'object' || Array.isArray(e.object)) return { ok: false, code: 'invalid', reason: 'object must be a JSON object' };
  return {
    ok: true,
    event: { id: e.id.toLowerCase(), account_id: e.account_id.toLowerCase(), type: e.type, time: new Date(e.time).toISOString(), object_type: objectType, object: e.object },
  };
}
