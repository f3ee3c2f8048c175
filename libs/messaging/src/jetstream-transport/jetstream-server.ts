import { Logger } from '@nestjs/common';
import { CustomTransportStrategy, MessageHandler, Server } from '@nestjs/microservices';
import type { JetStreamManager, JsMsg, NatsConnection } from 'nats';
import { lastValueFrom } from 'rxjs';
import { settleMessage } from '../settle-message';
import { LoopSession, SupervisedLoop, SupervisedLoopOptions } from '../supervised-loop';
import { JetStreamContext } from './jetstream-context';

/** One durable pull consumer whose messages go to the handler of `pattern` (`@EventPattern(pattern)`). */
export interface JetStreamBinding {
  pattern: string;
  stream: string;
  /** Durable name of the pull consumer; its `max_ack_pending` bounds what is unacknowledged cluster-wide. */
  consumer: string;
  /** Name of the supervised loop, shown in readiness (`loops`) and `webhook_loop_up{loop}`. */
  loop: string;
  /** Creates the stream and the durable consumer if missing; run before each attach. */
  ensure?: (jsm: JetStreamManager) => Promise<void>;
  /** Delay of the redelivery after a failure, by delivery count (default 1 s doubling to 30 s). */
  retryDelayMs?: (deliveryCount: number) => number;
}

/** Messages pulled ahead of the handler, which takes them one after the other. */
const PULL_AHEAD = 32;
/** While a handler runs, the server is told it is still working this often, so a slow commit is not redelivered meanwhile. */
const WORKING_EVERY_MS = 10_000;

export const defaultRetryDelayMs = (deliveryCount: number): number => Math.min(30_000, 1000 * 2 ** Math.min(Math.max(deliveryCount - 1, 0), 5));

/**
 * A Nest transport for JetStream consumers that take one message at a time. Each binding is a
 * durable pull consumer run under a SupervisedLoop (restarted with backoff when it ends or throws,
 * down in readiness meanwhile). A message is acked only after its handler's promise or observable
 * has completed, i.e. after the handler committed; a handler that throws gets a nak with a delay, so
 * the message comes back later. No message is ever terminated: a handler that wants to drop one
 * returns normally. Handlers must therefore be idempotent (a crash between commit and ack
 * redelivers the message).
 */
export class JetStreamServer extends Server implements CustomTransportStrategy {
  private readonly log = new Logger('JetStreamServer');
  private readonly loops: SupervisedLoop[];

  constructor(
    private readonly nc: NatsConnection,
    private readonly bindings: JetStreamBinding[],
    loopOptions: SupervisedLoopOptions = {},
  ) {
    super();
    this.loops = bindings.map((b) => new SupervisedLoop(b.loop, (s) => this.consume(b, s), loopOptions));
  }

  listen(callback: (err?: unknown) => void): void {
    const unhandled = this.bindings.filter((b) => !this.getHandlerByPattern(b.pattern));
    if (unhandled.length) return callback(new Error(`no handler for JetStream pattern(s) ${unhandled.map((b) => b.pattern).join(', ')}`));
    // Not awaited: each loop retries until NATS answers; readiness shows it down until then.
    for (const loop of this.loops) void loop.start();
    callback();
  }

  /** Stops pulling and waits for the handlers in progress. Safe to call more than once. */
  async close(): Promise<void> {
    await Promise.all(this.loops.map((l) => l.stop()));
  }

  on(): never {
    throw new Error('JetStreamServer has no events to listen to');
  }

  unwrap<T>(): T {
    return this.nc as T;
  }

  private async consume(binding: JetStreamBinding, session: LoopSession): Promise<void> {
    if (binding.ensure) await binding.ensure(await this.nc.jetstreamManager());
    const consumer = await this.nc.jetstream().consumers.get(binding.stream, binding.consumer);
    if (session.stopping) return;
    const messages = await consumer.consume({ max_messages: PULL_AHEAD, abort_on_missing_resource: true });
    session.onStop(() => messages.stop());
    session.ready();
    for await (const msg of messages) await this.handle(binding, msg);
  }

  private async handle(binding: JetStreamBinding, msg: JsMsg): Promise<void> {
    const handler = this.getHandlerByPattern(binding.pattern) as MessageHandler;
    const working = setInterval(() => settleMessage(msg, 'working'), WORKING_EVERY_MS);
    try {
      const result = await handler(msg.data, new JetStreamContext(msg));
      await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
    } catch (err) {
      const delay = (binding.retryDelayMs ?? defaultRetryDelayMs)(msg.info.deliveryCount);
      this.log.warn(`${binding.consumer}: message ${msg.seq} failed (delivery ${msg.info.deliveryCount}), redelivered in ${delay} ms: ${describe(err)}`);
      settleMessage(msg, 'nak', delay);
      return;
    } finally {
      clearInterval(working);
    }
    // Not confirmed (connection lost): the server redelivers after ack_wait; the handler is idempotent.
    await msg.ackAck().catch((err) => this.log.warn(`${binding.consumer}: ack of message ${msg.seq} not confirmed: ${describe(err)}`));
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object' && 'message' in err) return String(err.message);
  return String(err);
}
