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
