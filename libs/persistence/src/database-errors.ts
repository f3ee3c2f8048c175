const TRANSIENT_SQLSTATE = /^(08|53|57P0|40001|40P01|57014|55P03)/;
const TRANSIENT_NODE_CODE = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN)$/;
const TRANSIENT_MESSAGE = /connection terminated|timeout exceeded when trying to connect|not queryable|connection error|cannot use a pool after calling end/i;

/**
 * The database could not be reached or asked us to try again (connection lost, shutting down,
 * overloaded, serialization conflict): the same statement may well succeed later. Anything else
 * (data exceptions, program limits, constraint violations, errors thrown while building the
 * statement) would fail again with the same input.
 */
export function isTransientDatabaseError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown[] } | null | undefined;
  if (!e || typeof e !== 'object') return false;
  if (Array.isArray(e.errors) && e.errors.some(isTransientDatabaseError)) return true; // AggregateError of connect attempts
  const code = typeof e.code === 'string' ? e.code : '';
  if (TRANSIENT_SQLSTATE.test(code) || TRANSIENT_NODE_CODE.test(code)) return true;
  return typeof e.message === 'string' && TRANSIENT_MESSAGE.test(e.message);
}
