import { Injectable } from '@nestjs/common';
import { isDependencyUnavailable } from './dependency-errors';

/**
 * A readiness probe as data libraries export it (the database, NATS, the loops): a name and a check
 * that throws while not ready. Plain, so those libraries need nothing from HTTP.
 */
export interface ReadinessProbe {
  readonly name: string;
  check(): unknown;
}

export const PROBE_TIMEOUT_MS = 2000;

/** What one probe reported: 'ok', or why not ('unavailable' for an outage, never a driver's text). */
export type ProbeState = string;

/** The readiness probes of one app: those named by ObservabilityModule.forRoot and any the app adds. */
@Injectable()
export class Readiness {
  private readonly probes = new Map<string, () => unknown>();

  register(name: string, check: () => unknown): void {
    this.probes.set(name, check);
  }

  add(probe: ReadinessProbe): void {
    this.register(probe.name, () => probe.check());
  }

  names(): string[] {
    return [...this.probes.keys()];
  }

  /** Runs one probe, bounded in time; resolves to its state and never rejects. */
  async probe(name: string): Promise<ProbeState> {
    const check = this.probes.get(name);
    if (!check) return 'unknown';
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([Promise.resolve().then(check), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), PROBE_TIMEOUT_MS)))]);
      return 'ok';
    } catch (err) {
      // A driver's message may name hosts and users: an outage reads 'unavailable'.
      return isDependencyUnavailable(err) ? 'unavailable' : (err as Error)?.message || 'failed';
    } finally {
      clearTimeout(timer);
    }
  }
}
