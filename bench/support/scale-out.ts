/**
 * Scale beyond one machine, on paper: what delivery nodes, one PostgreSQL primary and a 3-server
 * NATS cluster carry, from the CPU per delivery of each process measured on one machine. Stated
 * assumptions: a node's event loop is one core (its other threads, TLS and GC helpers, are in its
 * figure); PostgreSQL spreads its work over the primary's cores; in a 3-server cluster every server
 * stores every message of a replicated (R3) stream and the stream's leader also ships it to the two
 * others, so the busiest server is taken to do twice the single server's work per delivery.
 */
export interface ScaleOutInput {
  /** CPU milliseconds per delivery. */
  node: number;
  nats: number;
  postgres: number;
}

export interface ScaleOutSizes {
  postgresCores: number;
  natsCores: number;
  /** Work of the busiest server of an R3 cluster against a single server's. */
  natsLeaderFactor: number;
}

export const DEFAULT_SIZES: ScaleOutSizes = { postgresCores: 8, natsCores: 4, natsLeaderFactor: 2 };

export function scaleOutLine(cpu: ScaleOutInput, sizes: ScaleOutSizes = DEFAULT_SIZES, basis = 'the CPU per delivery above'): string {
  const r0 = (n: number) => Math.round(n).toLocaleString('en-US');
  const perNode = 1000 / cpu.node;
  const postgres = (sizes.postgresCores * 1000) / cpu.postgres;
  const nats = (sizes.natsCores * 1000) / (cpu.nats * sizes.natsLeaderFactor);
  const first = postgres <= nats ? `the ${sizes.postgresCores}-core PostgreSQL primary` : `the ${sizes.natsCores}-core NATS servers`;
  const limit = Math.min(postgres, nats);
  return (
    `scale out       (on paper, from ${basis}) one node carries ${r0(perNode)}/s (its event loop, one core); ` +
    `one ${sizes.postgresCores}-core PostgreSQL primary ${r0(postgres)}/s; a 3-server NATS cluster of ${sizes.natsCores}-core servers ${r0(nats)}/s ` +
    `(R3 streams, the leader taken at ${sizes.natsLeaderFactor} x a single server's work); ${first} saturates first, at ${r0(limit)}/s, about ${r0(limit / perNode)} nodes`
  );
}
