import { Injectable } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { loopsDown } from './loop-health';
import { InjectNats } from './nats-connection-token';

/**
 * Readiness probes of this library as plain objects (a name and a check that throws when not
 * ready); the HTTP layer decides how to serve them, so messaging knows nothing of HTTP.
 */
@Injectable()
export class NatsReadiness {
  readonly name = 'nats';

  constructor(@InjectNats() private readonly nc: NatsConnection) {}

  async check(): Promise<void> {
    if (this.nc.isClosed()) throw new Error('closed');
    await this.nc.flush();
  }
}

/** Not ready while a started consumer, watch, relay or scanner is down. */
@Injectable()
export class LoopsReadiness {
  readonly name = 'loops';

  check(): void {
    const down = loopsDown();
    if (down.length) throw new Error(`down: ${down.join(', ')}`);
  }
}
