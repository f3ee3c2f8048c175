import { hostPort, reachable } from './reachable';
import { StartError } from './dev-nats';

/** Stops `npm start` with one line that says how to provide PostgreSQL when none answers. */
export async function requirePostgres(databaseUrl: string): Promise<void> {
  const { host, port } = hostPort(databaseUrl, 5432);
  if (await reachable(host, port, 3000)) return;
  throw new StartError(
    `PostgreSQL is not reachable at ${host}:${port}: start one (Debian: apt-get install postgresql; or docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:15) or set DATABASE_URL=postgres://user@host:port/webhooks`,
  );
}
