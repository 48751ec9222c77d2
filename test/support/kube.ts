import { execFile } from 'node:child_process';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { writeKubeconfig } from './kubeconfig.js';
import { issueClientCert } from './pki.js';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through \`npm test\``);
  return value;
};

export const adminKubeconfigPath = () => env('DBWATCH_TEST_KUBECONFIG');

export function kubeConfig(path = adminKubeconfigPath()): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real kubectl built for this run; never throws on a non-zero exit. */
export function kubectl(args: string[], options: { kubeconfig?: string; input?: string } = {}): Promise<KubectlResult> {
  return new Promise((ok) => {
    const child = execFile(
      join(env('DBWATCH_TEST_BIN_DIR'), 'kubectl'),
      ['--kubeconfig', options.kubeconfig ?? adminKubeconfigPath(), ...args],
      { timeout: 60_000 },
      (error, stdout, stderr) => ok({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

let counter = 0;
/** Namespaces never finish terminating without controllers: every test gets its own. */
export async function freshNamespace(prefix = 'test'): Promise<string> {
  const name = `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
  await kubeConfig()
    .makeApiClient(k8s.CoreV1Api)
    .createNamespace({ body: { metadata: { name } } });
  return name;
}

/** A kubeconfig for a user authenticated by client certificate (CN = user, O = groups). */
export function userKubeconfig(user: string, groups: string[] = []): string {
  const dir = env('DBWATCH_TEST_CP_DIR');
  const client = issueClientCert(dir, user, groups);
  const path = join(dir, `kubeconfig-${user}-${Date.now()}`);
  const server = kubeConfig().getCurrentCluster()!.server;
  writeKubeconfig(path, server, join(dir, 'ca.crt'), user, client);
  return path;
}

/** Applies crds/ and waits until both are Established (idempotent); `kubeconfig`: another control plane's admin. */
export async function ensureCrds(kubeconfig?: string): Promise<void> {
  const on = kubeconfig ? { kubeconfig } : {};
  const applied = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', 'crds/'], on);
  if (applied.code !== 0) throw new Error(`kubectl apply -f crds/ failed: ${applied.stderr}`);
  const waited = await kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', 'crds/'], on);
  if (waited.code !== 0) throw new Error(`CRDs not Established: ${waited.stderr}`);
}
