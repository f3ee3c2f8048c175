import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  caPem: string;
  caFile: string;
  certPem: string;
  certFile: string;
  keyPem: string;
  keyFile: string;
}

/**
 * A throwaway CA and a server certificate for `localhost`, 127.0.0.1, ::1 and `extraIps`, made with the openssl
 * CLI (EC P-256, so it takes a few tens of ms). Trust `caPem` in the client; serve `certPem`/`keyPem`.
 */
export function makeTestPki(dir: string = mkdtempSync(join(tmpdir(), 'test-pki-')), extraIps: string[] = []): TestPki {
  const f = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });

  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('ca.key'));
  openssl(
    'req',
    '-x509',
    '-new',
    '-key',
    f('ca.key'),
    '-sha256',
    '-days',
    '3650',
    '-subj',
    '/CN=Webhooks Test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    f('ca.pem'),
  );
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('server.key'));
  openssl('req', '-new', '-key', f('server.key'), '-subj', '/CN=localhost', '-out', f('server.csr'));
  writeFileSync(
    f('server.ext'),
    [
      `subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1${extraIps.map((a) => `,IP:${a}`).join('')}`,
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
    ].join('\n'),
  );
  openssl(
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-set_serial',
    `0x${Date.now().toString(16)}`,
    '-days',
    '825',
    '-sha256',
    '-extfile',
    f('server.ext'),
    '-out',
    f('server.pem'),
  );

  return {
    dir,
    caPem: readFileSync(f('ca.pem'), 'utf8'),
    caFile: f('ca.pem'),
    certPem: readFileSync(f('server.pem'), 'utf8'),
    certFile: f('server.pem'),
    keyPem: readFileSync(f('server.key'), 'utf8'),
    keyFile: f('server.key'),
  };
}
