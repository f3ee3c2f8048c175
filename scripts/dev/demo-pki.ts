import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestPki } from '../../libs/testing/src/tls';

export interface DemoPki {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/**
 * The demo's own CA and a server certificate for 127.0.0.1/localhost, made once under
 * `<dataDir>/demo-pki` with openssl. Delivery nodes trust it through DELIVERY_CA_FILE, which they
 * read at start, so it exists before `npm run demo:start` starts them.
 */
export function ensureDemoPki(dataDir: string): DemoPki {
  const dir = join(dataDir, 'demo-pki');
  const files = { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key') };
  if (Object.values(files).every((f) => existsSync(f) && readFileSync(f).length > 0)) return files;
  mkdirSync(dir, { recursive: true });
  const pki = makeTestPki(dir);
  return { caFile: pki.caFile, certFile: pki.certFile, keyFile: pki.keyFile };
}

/** `node dist/scripts/dev/demo-pki.js` (DEV_DATA_DIR, default .dev/): makes the files and prints the CA's path. */
if (require.main === module) {
  process.stdout.write(`${ensureDemoPki(process.env.DEV_DATA_DIR || join(__dirname, '..', '..', '..', '.dev')).caFile}\n`);
}
