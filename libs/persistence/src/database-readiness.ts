import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';

/** The database's readiness probe as a plain object; the HTTP layer serves it (see ObservabilityModule). */
@Injectable()
export class DatabaseReadiness {
  readonly name = 'database';

  constructor(private readonly em: EntityManager) {}

  async check(): Promise<void> {
    await this.em.getConnection().execute('select 1');
  }
}
