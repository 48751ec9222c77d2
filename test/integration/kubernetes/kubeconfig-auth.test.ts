import { chmodSync, copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { dump, load } from 'js-yaml';
import { connectKube } from '../../../src/controller/k8s/client.js';
import { adminKubeconfigPath, freshNamespace, kubectl } from '../../support/kube.js';

/**
 * dbwatch's own kubeconfig reader (cluster-access.ts) against the real API server, for every way of
 * authenticating a user can have: who the API server says we are is the assertion.
 */
interface Kubeconfig {
  clusters: { name: string; cluster: Record<string, unknown> }[];
  users: { name: string; user: Record<string, unknown> }[];
  contexts: { name: string; context: Record<string, unknown> }[];
  'current-context': string;
}

let dir: string;
let admin: Kubeconfig;
let namespace: string;
let token: string;

const whoAmI = async (kubeconfig: string, context?: string) => {
  const api = await connectKube({ kubeconfig, context });
  try {
    const review = await api.request<{ status: { userInfo: { username: string } } }>(
      'POST',
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } },
    );
    return review.status.userInfo.username;
  } finally {
    api.close();
  }
};

/** The admin's cluster (CA embedded) with the given user. */
function withUser(name: string, user: Record<string, unknown>): string {
  const path = join(dir, `kubeconfig-${name}`);
  const config: Kubeconfig = {
    ...admin,
    users: [{ name, user }],
    contexts: [{ name, context: { cluster: admin.clusters[0]!.name, user: name, namespace } }],
    'current-context': name,
  };
  writeFileSync(path, dump(config), { mode: 0o600 });
  return path;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dbwatch-kubeconfig-'));
  admin = load(readFileSync(adminKubeconfigPath(), 'utf8')) as Kubeconfig;
  namespace = await freshNamespace('kubeconfig');
  await kubectl(['create', 'serviceaccount', 'reader', '-n', namespace]);
  const created = await kubectl(['create', 'token', 'reader', '-n', namespace]);
  expect(created.stderr).toBe('');
  token = created.stdout.trim();
});

const serviceAccount = () => `system:serviceaccount:${namespace}:reader`;

describe('kubeconfig authentication without client-node', () => {
  test('a bearer token', async () => {
    expect(await whoAmI(withUser('token', { token }))).toBe(serviceAccount());
  });

  test('a token file, named relative to the kubeconfig', async () => {
    writeFileSync(join(dir, 'reader.token'), `${token}\n`);
    expect(await whoAmI(withUser('token-file', { tokenFile: 'reader.token' }))).toBe(serviceAccount());
  });

  test('client certificate files, named relative to the kubeconfig', async () => {
    const user = admin.users[0]!.user;
    writeFileSync(join(dir, 'admin.crt'), Buffer.from(String(user['client-certificate-data']), 'base64'));
    writeFileSync(join(dir, 'admin.key'), Buffer.from(String(user['client-key-data']), 'base64'));
    const name = await whoAmI(withUser('files', { 'client-certificate': 'admin.crt', 'client-key': 'admin.key' }));
    expect(name).toBe(await whoAmI(adminKubeconfigPath()));
  });

  test('an exec credential plugin (through client-node, loaded for it)', async () => {
    const plugin = join(dir, 'credential-plugin');
    writeFileSync(join(dir, 'plugin.token'), token);
    writeFileSync(
      plugin,
      `#!/bin/sh\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$(cat ${join(dir, 'plugin.token')})"\n`,
    );
    chmodSync(plugin, 0o755);
    const path = withUser('exec', {
      exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' },
    });
    expect(await whoAmI(path)).toBe(serviceAccount());
  });

  test('a chosen context, and clear errors for a missing one or a missing file', async () => {
    const path = withUser('token', { token });
    copyFileSync(path, join(dir, 'two-contexts'));
    const config = load(readFileSync(path, 'utf8')) as Kubeconfig;
    config.contexts.push({ name: 'other', context: { cluster: admin.clusters[0]!.name, user: 'token' } });
    config['current-context'] = 'missing';
    writeFileSync(join(dir, 'two-contexts'), dump(config));
    expect(await whoAmI(join(dir, 'two-contexts'), 'other')).toBe(serviceAccount());
    await expect(connectKube({ kubeconfig: join(dir, 'two-contexts') })).rejects.toThrow(
      /context "missing" not found in .*two-contexts/,
    );
    await expect(connectKube({ kubeconfig: join(dir, 'nope') })).rejects.toThrow(/ENOENT.*nope/);
  });

  test('a refused credential is a 401 that names no secret', async () => {
    const api = await connectKube({ kubeconfig: withUser('bad', { token: 'not-a-valid-token-s3cr3t' }) });
    try {
      const failure = await api.request('GET', `/api/v1/namespaces/${namespace}/secrets`).catch((e: unknown) => e);
      expect((failure as { code: number }).code).toBe(401);
      expect(String((failure as Error).message)).toMatch(/^GET \/api\/v1\/namespaces\/.*\/secrets: HTTP 401/);
      expect(String((failure as Error).message)).not.toContain('s3cr3t');
    } finally {
      api.close();
    }
  });
});
