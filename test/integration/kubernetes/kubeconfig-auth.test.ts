import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { dump, load } from 'js-yaml';
import { KubeApi } from '../../../src/controller/k8s/api-client.js';
import { connectKube } from '../../../src/controller/k8s/client.js';
import { type LoadOptions, loadClusterAccess } from '../../../src/controller/k8s/cluster-access.js';
import { adminKubeconfigPath, freshNamespace, kubectl } from '../../support/kube.js';
import { issueClientCert } from '../../support/pki.js';

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

const review = async (api: KubeApi) =>
  (
    await api.request<{ status: { userInfo: { username: string; groups?: string[] } } }>(
      'POST',
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } },
    )
  ).status.userInfo;

const whoAmI = async (kubeconfig: string, context?: string) => {
  const api = await connectKube({ kubeconfig, context });
  try {
    return (await review(api)).username;
  } finally {
    api.close();
  }
};

/** A client over loadClusterAccess with its options (environment, clock) under the test's control. */
async function clientWith(options: LoadOptions): Promise<KubeApi> {
  return new KubeApi(await loadClusterAccess(options));
}

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

describe('kubeconfig files found as kubectl finds them', () => {
  test('$KUBECONFIG entries that do not exist are skipped; none existing is a clear error naming them', async () => {
    const path = withUser('token', { token });
    const env = { KUBECONFIG: [join(dir, 'missing-1'), path, join(dir, 'missing-2')].join(':'), HOME: dir };
    const api = await clientWith({ env });
    try {
      expect((await review(api)).username).toBe(serviceAccount());
    } finally {
      api.close();
    }
    await expect(loadClusterAccess({ env: { KUBECONFIG: `${dir}/none-a:${dir}/none-b`, HOME: dir } })).rejects.toThrow(
      `no kubeconfig found ($KUBECONFIG, ~/.kube/config) and not running in a cluster (none of $KUBECONFIG's files exist: ${dir}/none-a, ${dir}/none-b)`,
    );
  });

  test('impersonation: as, as-groups', async () => {
    const admin = load(readFileSync(adminKubeconfigPath(), 'utf8')) as Kubeconfig;
    const path = withUser('impersonating', { ...admin.users[0]!.user, as: 'jane', 'as-groups': ['team-a', 'team-b'] });
    const api = await connectKube({ kubeconfig: path });
    try {
      const user = await review(api);
      expect(user.username).toBe('jane');
      expect(user.groups).toEqual(expect.arrayContaining(['team-a', 'team-b']));
    } finally {
      api.close();
    }
  });
});

/**
 * An exec credential plugin: a shell script that answers its Nth run with the file out-N.json (the last one
 * when there are fewer), counting its runs and keeping the KUBERNETES_EXEC_INFO it was given.
 */
function execPlugin(name: string, answers: object[]): { kubeconfig: string; runs: () => number; dir: string } {
  const pluginDir = join(dir, `plugin-${name}`);
  mkdirSync(pluginDir, { recursive: true });
  answers.forEach((answer, i) => {
    writeFileSync(join(pluginDir, `out-${i + 1}.json`), JSON.stringify(answer));
  });
  const script = join(pluginDir, 'plugin.sh');
  writeFileSync(
    script,
    `#!/bin/sh
d=${pluginDir}
n=$(cat $d/runs 2>/dev/null || echo 0); n=$((n+1)); echo $n > $d/runs
printf '%s' "$KUBERNETES_EXEC_INFO" > $d/info-$n.json
f=$d/out-$n.json; [ -f $f ] || f=$d/out-${answers.length}.json
cat $f
`,
  );
  chmodSync(script, 0o755);
  const kubeconfig = withUser(`exec-${name}`, {
    exec: {
      apiVersion: 'client.authentication.k8s.io/v1',
      command: script,
      interactiveMode: 'Never',
      provideClusterInfo: true,
    },
  });
  const runs = () => {
    try {
      return Number(readFileSync(join(pluginDir, 'runs'), 'utf8'));
    } catch {
      return 0;
    }
  };
  return { kubeconfig, runs, dir: pluginDir };
}

const credential = (status: Record<string, unknown>) => ({
  apiVersion: 'client.authentication.k8s.io/v1',
  kind: 'ExecCredential',
  status,
});

describe('exec plugin credentials, refreshed before they expire', () => {
  test('a token is kept until 80 % of its lifetime, then fetched again — not at every request, not after expiry', async () => {
    const expires = new Date(Date.now() + 100_000).toISOString();
    const plugin = execPlugin('token', [credential({ token, expirationTimestamp: expires })]);
    let offset = 0;
    const api = await clientWith({ path: plugin.kubeconfig, now: () => Date.now() + offset });
    try {
      expect((await review(api)).username).toBe(serviceAccount());
      await review(api);
      expect(plugin.runs()).toBe(1);
      offset = 78_000;
      await review(api);
      expect(plugin.runs()).toBe(1);
      offset = 82_000; // past 80 % of the 100 s, still 18 s before expiry
      expect((await review(api)).username).toBe(serviceAccount());
      expect(plugin.runs()).toBe(2);
      // The plugin was told it runs without a terminal, and (provideClusterInfo) which cluster it is for.
      const info = JSON.parse(readFileSync(join(plugin.dir, 'info-1.json'), 'utf8'));
      expect(info).toMatchObject({
        kind: 'ExecCredential',
        spec: { interactive: false, cluster: { server: admin.clusters[0]!.cluster.server } },
      });
    } finally {
      api.close();
    }
  });

  test('a client certificate from the plugin: the refreshed one is used for new connections', async () => {
    const cpDir = process.env.DBWATCH_TEST_CP_DIR!;
    const first = issueClientCert(cpDir, 'exec-user-1', []);
    const second = issueClientCert(cpDir, 'exec-user-2', []);
    const expires = new Date(Date.now() + 100_000).toISOString();
    const certOf = (c: { cert: string; key: string }) =>
      credential({
        clientCertificateData: readFileSync(c.cert, 'utf8'),
        clientKeyData: readFileSync(c.key, 'utf8'),
        expirationTimestamp: expires,
      });
    const plugin = execPlugin('cert', [certOf(first), certOf(second)]);
    let offset = 0;
    const api = await clientWith({ path: plugin.kubeconfig, now: () => Date.now() + offset });
    try {
      expect((await review(api)).username).toBe('exec-user-1');
      offset = 82_000;
      expect((await review(api)).username).toBe('exec-user-2');
      expect(plugin.runs()).toBe(2);
    } finally {
      api.close();
    }
  });

  test('a credential the API server refuses (401) is fetched again for the next request', async () => {
    const plugin = execPlugin('refused', [credential({ token: 'refused-token' }), credential({ token })]);
    const api = await clientWith({ path: plugin.kubeconfig });
    try {
      await expect(review(api)).rejects.toMatchObject({ code: 401 });
      expect((await review(api)).username).toBe(serviceAccount());
      expect(plugin.runs()).toBe(2);
    } finally {
      api.close();
    }
  });

  test('a plugin that fails says which, without quoting its output', async () => {
    const plugin = execPlugin('broken', [{ kind: 'Something', token: 'leaked-s3cr3t' }]);
    const api = await clientWith({ path: plugin.kubeconfig });
    try {
      const error = await review(api).catch((e: unknown) => e as Error);
      expect((error as Error).message).toMatch(
        /^exec plugin .*plugin\.sh: printed Something, expected ExecCredential client\.authentication\.k8s\.io\/v1$/,
      );
      expect((error as Error).message).not.toContain('s3cr3t');
    } finally {
      api.close();
    }
  });
});

describe('in a Pod: the service account files are re-read when they rotate', () => {
  test('a rotated CA and a rotated token are used within a minute, without a restart', async () => {
    const sa = join(dir, 'serviceaccount');
    mkdirSync(sa, { recursive: true });
    // Before the rotation: a CA that did not sign the API server's certificate.
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(sa, 'other.key'),
        '-out',
        join(sa, 'ca.crt'),
        '-days',
        '1',
        '-subj',
        '/CN=other-ca',
      ],
      { stdio: 'ignore' },
    );
    writeFileSync(join(sa, 'token'), token);
    writeFileSync(join(sa, 'namespace'), namespace);
    const server = new URL(admin.clusters[0]!.cluster.server as string);
    let offset = 0;
    const api = await clientWith({
      env: { KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port, HOME: dir },
      serviceAccountDir: sa,
      now: () => Date.now() + offset,
    });
    try {
      expect(api.access.namespace).toBe(namespace);
      await expect(review(api)).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
      writeFileSync(
        join(sa, 'ca.crt'),
        Buffer.from(String(admin.clusters[0]!.cluster['certificate-authority-data']), 'base64'),
      );
      offset = 30_000;
      await expect(review(api)).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i); // not re-read yet
      offset = 61_000;
      expect((await review(api)).username).toBe(serviceAccount());

      await kubectl(['create', 'serviceaccount', 'writer', '-n', namespace]);
      writeFileSync(join(sa, 'token'), (await kubectl(['create', 'token', 'writer', '-n', namespace])).stdout.trim());
      offset = 122_000;
      expect((await review(api)).username).toBe(`system:serviceaccount:${namespace}:writer`);
    } finally {
      api.close();
    }
  });
});
