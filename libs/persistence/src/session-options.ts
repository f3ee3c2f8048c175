/**
 * Settings of every session our services open (the `options` startup parameter).
 *
 * `jit=off`: PostgreSQL compiles a statement with LLVM once its estimated cost passes
 * `jit_above_cost`, which a batch statement over a large array or a recursive scan over many
 * partitions does: the due-time claim over 1,024 partitions took 300-570 ms a call, nearly all of it
 * compiling, instead of about 1 ms. Every statement here is short and served by indexes, so
 * compiling never pays back.
 */
export const SESSION_OPTIONS = '-c jit=off';

/**
 * DATABASE_URL with SESSION_OPTIONS in its `options` parameter, ahead of any options the URL gives
 * (so a setting given there on purpose wins). Every client connects with this URL: the pg driver
 * lets a connection string's parameters replace its explicit settings, so an `options` passed beside
 * the URL was silently dropped by a URL with its own (e.g. `?options=-c statement_timeout=5s`).
 */
export function withSessionOptions(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  const given = url.searchParams.get('options');
  url.searchParams.set('options', given ? `${SESSION_OPTIONS} ${given}` : SESSION_OPTIONS);
  return url.toString();
}
