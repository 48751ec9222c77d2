import { readFileSync, writeFileSync } from 'node:fs';
import { dump } from 'js-yaml';

const b64 = (file: string) => readFileSync(file).toString('base64');

/** A kubeconfig file with the CA and the client certificate embedded. */
export function writeKubeconfig(
  path: string,
  server: string,
  caFile: string,
  user: string,
  client: { cert: string; key: string },
): void {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'dbwatch-test', cluster: { server, 'certificate-authority-data': b64(caFile) } }],
    users: [{ name: user, user: { 'client-certificate-data': b64(client.cert), 'client-key-data': b64(client.key) } }],
    contexts: [{ name: 'dbwatch-test', context: { cluster: 'dbwatch-test', user } }],
    'current-context': 'dbwatch-test',
  };
  writeFileSync(path, dump(config), { mode: 0o600 });
}
