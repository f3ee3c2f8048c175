import { readConfig } from '../libs/config/src';
import { migrate } from '../libs/persistence/src';

/** Creates the database if missing and applies pending migrations. */
migrate(readConfig().databaseUrl)
  .then((applied) => process.stdout.write(`${JSON.stringify({ applied })}\n`))
  .catch((err) => {
    process.stderr.write(`migration failed: ${err.message}\n`);
    process.exit(1);
  });
