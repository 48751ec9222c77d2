import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: 'pipe' });

/** A key and a certificate for `subject`, signed by the CA in `dir`: `base`.crt and `base`.key. */
export function signedCertificate(dir: string, base: string, subject: string, extensions: string, days: number) {
  writeFileSync(join(dir, `${base}.ext`), extensions);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', `-keyout=${base}.key`, `-out=${base}.csr`, `-subj=${subject}`], dir);
  openssl(
    [
      'x509',
      '-req',
      `-in=${base}.csr`,
      '-CA=ca.crt',
      '-CAkey=ca.key',
      '-CAcreateserial',
      `-out=${base}.crt`,
      `-days=${days}`,
      `-extfile=${base}.ext`,
    ],
    dir,
  );
  return { cert: join(dir, `${base}.crt`), key: join(dir, `${base}.key`) };
}

/**
 * Certificates for a test control plane, made with the openssl CLI: one CA that signs the API
 * server's serving certificate and the client certificates (CN = user, O = groups), and the
 * service-account key pair. `extraSans` (e.g. `IP:10.0.0.1`) for an API server that Pods reach.
 */
export function createPki(dir: string, extraSans: string[] = []): void {
  createCa(dir);
  signedCertificate(
    dir,
    'serving',
    '/CN=kube-apiserver',
    `subjectAltName=${['IP:127.0.0.1', 'DNS:localhost', ...extraSans].join(',')}\nextendedKeyUsage=serverAuth\n`,
    365,
  );
  openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
  openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
}

/** A test CA in `dir`: ca.crt and ca.key, for signedCertificate. */
export function createCa(dir: string): void {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout=ca.key',
      '-out=ca.crt',
      '-days=365',
      '-subj=/CN=dbwatch-test-ca',
    ],
    dir,
  );
}

/** A client certificate for `user` in `groups`, signed by the control plane's CA. */
export function issueClientCert(dir: string, user: string, groups: string[]): { cert: string; key: string } {
  const base = `client-${user.replace(/[^a-zA-Z0-9_-]/g, '_')}-${Date.now()}`;
  const subject = `/CN=${user}${groups.map((g) => `/O=${g}`).join('')}`;
  return signedCertificate(dir, base, subject, 'extendedKeyUsage=clientAuth\n', 30);
}
