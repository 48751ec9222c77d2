import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { checkCommand } from '../../src/cli/check-command.js';
import { formatProblem, parseManifests, YAML_LIMITS } from '../../src/cli/manifests.js';
import { parseOperatorSettings } from '../../src/cli/operator-command.js';
import { OPERATOR_SETTINGS, renderSettingsHelp, renderSettingsTable } from '../../src/cli/operator-settings.js';

const MONITOR = `apiVersion: dbwatch.dev/v1alpha1
kind: DatabaseMonitor
metadata: {name: orders}
spec:
  engine: postgres
  connection: {secretRef: {name: db}}
`;
const SECRET = `apiVersion: v1
kind: Secret
metadata: {name: db}
stringData: {host: db.example, database: orders, username: app, password: hunter2}
`;

const parse = (...texts: string[]) => {
  const out = parseManifests(texts.map((text, i) => ({ file: `f${i}.yaml`, text })));
  return { ...out, problems: out.problems.map(formatProblem) };
};

/** Runs `dbwatch check` on the documents without a database: only input that is refused gets this far. */
async function check(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'dbwatch-strict-'));
  writeFileSync(join(dir, 'in.yaml'), text);
  let stdout = '';
  let stderr = '';
  const code = await checkCommand({
    files: [dir],
    output: 'table',
    env: {},
    write: (t) => (stdout += t),
    writeError: (t) => (stderr += t),
  });
  return { code, stdout, stderr, file: join(dir, 'in.yaml') };
}

describe('dbwatch check refuses input it would otherwise half-accept (exit 3, nothing run)', () => {
  test('an unknown field is named by file, object and field path', async () => {
    const { code, stdout, stderr, file } = await check(
      `${SECRET}---\n${MONITOR.replace('{secretRef: {name: db}}', '{secretRef: {name: db}, tls: {mod: verify-full}}')}`,
    );
    expect(code).toBe(3);
    expect(stdout).toBe('');
    expect(stderr).toContain(`${file}: DatabaseMonitor/orders: spec.connection.tls.mod: unknown field`);
  });

  test('unknown fields are refused at every level, top level and Secrets included; metadata stays open', () => {
    const out = parse(
      `${MONITOR}  extra: 1\nspecs: {}\n`,
      `${SECRET}strinData: {}\n`,
      MONITOR.replace('{name: orders}', '{name: other, labels: {a: b}, uid: x, creationTimestamp: now}'),
    );
    expect(out.problems).toEqual([
      'f0.yaml: DatabaseMonitor/orders: spec.extra: unknown field',
      'f0.yaml: DatabaseMonitor/orders: specs: unknown field',
      'f1.yaml: Secret/db: strinData: unknown field',
    ]);
    expect(out.monitors.map((m) => m.metadata.name)).toEqual(['other']);
  });

  test.each([
    ['0s', 'must be between 1s and 24h'],
    ['500ms', 'must be between 1s and 24h'],
    ['99999999h', 'must be between 1s and 24h'],
    ['25h', 'must be between 1s and 24h'],
    ['soon', 'must be a duration such as 30s, 5m or 1h30m'],
  ])('interval %s is refused: %s', (interval, message) => {
    const out = parse(`${MONITOR}  interval: ${interval}\n  checks: {performance: {interval: ${interval}}}\n`);
    expect(out.problems).toEqual([
      `f0.yaml: DatabaseMonitor/orders: spec.interval: ${message}`,
      `f0.yaml: DatabaseMonitor/orders: spec.checks.performance.interval: ${message}`,
    ]);
  });

  test('the duration bounds themselves are accepted', () => {
    const out = parse(`${MONITOR}  interval: 1s\n  checks: {performance: {interval: 24h}}\n`);
    expect(out.problems).toEqual([]);
  });

  test('invalid base64 and non-string values in a Secret name the Secret and key', () => {
    const out = parse(
      'apiVersion: v1\nkind: Secret\nmetadata: {name: db}\ndata: {password: "not base64!", ok: aGk=}\nstringData: {port: 5432, tls: true, empty: null}\n',
    );
    expect(out.problems).toEqual([
      'f0.yaml: Secret/db: data.password: is not valid base64',
      'f0.yaml: Secret/db: stringData.port: must be a string (quote numbers, such as "5432")',
      'f0.yaml: Secret/db: stringData.tls: must be a string (quote numbers, such as "5432")',
      'f0.yaml: Secret/db: stringData.empty: must be a string (quote numbers, such as "5432")',
    ]);
  });

  test('a duplicate object (same kind, namespace and name) is refused, even across files', () => {
    const out = parse(
      `${SECRET}---\n${MONITOR}`,
      MONITOR,
      MONITOR.replace('{name: orders}', '{name: orders, namespace: shop}'),
    );
    expect(out.problems).toEqual([
      'f1.yaml: DatabaseMonitor/orders: metadata.name: defined twice (same kind, namespace default and name; first in f0.yaml)',
    ]);
    expect(out.monitors).toHaveLength(2);
  });

  test('a name or namespace that is a mapping (even {toString: 1}) is a field error, not a TypeError', () => {
    const odd = MONITOR.replace('{name: orders}', '{name: {toString: 1, valueOf: 1}, namespace: {toString: 1}}');
    const out = parse(odd, odd);
    expect(out.problems).toContain(
      'f1.yaml: document 1 (DatabaseMonitor): metadata.name: defined twice (same kind, namespace {"toString":1} and name; first in f0.yaml)',
    );
    expect(out.problems).toContain(
      'f0.yaml: document 1 (DatabaseMonitor): metadata.name: Invalid input: expected string, received object',
    );
  });

  test('other kinds are reported as skipped; a dbwatch.dev kind that does not exist and shapeless documents are errors', async () => {
    const { code, stderr } = await check(
      `${SECRET}---\n${MONITOR}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n---\napiVersion: dbwatch.dev/v1alpha1\nkind: DatabaseMonitors\nmetadata: {name: x}\n---\n- a list\n---\nfoo: bar\n---\n`,
    );
    expect(code).toBe(3);
    expect(stderr).toMatch(/warning: .*in\.yaml: Deployment\/web: kind Deployment is not read by dbwatch; skipped/);
    expect(stderr).toMatch(
      /DatabaseMonitors\/x: kind: DatabaseMonitors is not a kind of dbwatch.dev \(DatabaseMonitor, /,
    );
    expect(stderr).toMatch(/in\.yaml: document 5: \(root\): not a Kubernetes object/);
    expect(stderr).toMatch(/in\.yaml: document 6: apiVersion: missing/);
  });

  test('a skipped kind alone is only a warning', () => {
    const out = parse(`${SECRET}---\n${MONITOR}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n`);
    expect(out.problems).toEqual([]);
    expect(out.warnings).toEqual(['f0.yaml: ConfigMap/c: kind ConfigMap is not read by dbwatch; skipped']);
  });

  test('a "billion laughs" file is refused quickly with a clear message', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [prev, cur] of ['ab', 'bc', 'cd', 'de', 'ef', 'fg', 'gh', 'hi']) {
      levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const started = Date.now();
    const out = parse(levels.join('\n'));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(out.problems).toEqual([
      `f0.yaml: document 1: (root): expands to more than ${YAML_LIMITS.maxNodesPerDocument} values (YAML aliases?); refused`,
    ]);
  });

  test('too many aliases, a self-referencing alias and deep nesting are refused', () => {
    const manyAliases = `a: &a x\nb: [${Array(YAML_LIMITS.maxAliases + 1)
      .fill('*a')
      .join(',')}]`;
    expect(parse(manyAliases).problems[0]).toMatch(
      /^f0.yaml: line 2, column \d+: not valid YAML: aliases exceeded maxAliases \(100\)$/,
    );
    expect(parse('a: &a [*a]').problems[0]).toMatch(/expands to more than/);
    expect(parse(`${'['.repeat(200)}${']'.repeat(200)}`).problems[0]).toMatch(
      /^f0.yaml: line 1, column \d+: not valid YAML: nesting exceeded maxDepth \(100\)$/,
    );
  });

  test('a percent sign that is not encoded in a URL password is InvalidConnection naming Secret and key', async () => {
    const { code, stderr } = await check(
      `apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {url: "postgres://app:50%off@db.example/orders"}\n---\n${MONITOR}`,
    );
    expect(code).toBe(3);
    expect(stderr).toMatch(
      /in\.yaml: DatabaseMonitor\/orders: spec\.connection: Secret db key url: the password in the URL is not percent-encoded correctly/,
    );
    expect(stderr).not.toContain('50%off');
  });

  test('a Secret key named like an Object property is not found on the prototype', async () => {
    const monitor = MONITOR.replace('{secretRef: {name: db}}', '{secretRef: {name: db, keys: {host: constructor}}}');
    const { code, stderr } = await check(`${SECRET}---\n${monitor}`);
    expect(code).toBe(3);
    expect(stderr).toMatch(/in\.yaml: DatabaseMonitor\/orders: spec\.connection: Secret db is missing key constructor/);
  });

  test('an inline prerequisite connection whose Secret is bad stops the run too', async () => {
    const { code, stderr } = await check(
      'apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {url: "postgres://a:b@h/d?sslmode=verify_full"}\n---\n' +
        'apiVersion: dbwatch.dev/v1alpha1\nkind: DatabasePrerequisite\nmetadata: {name: ready}\n' +
        'spec: {databases: [{name: orders, engine: postgres, connection: {secretRef: {name: db}}}]}\n',
    );
    expect(code).toBe(3);
    expect(stderr).toMatch(
      /in\.yaml: DatabasePrerequisite\/ready: spec.databases\[0\].connection: Secret db key url: sslmode must be given once, as one of disable/,
    );
  });
});

describe('operator settings from the environment', () => {
  test('defaults when nothing is set; empty counts as unset', () => {
    expect(parseOperatorSettings({ METRICS_PORT: '', WATCH_NAMESPACES: '' })).toEqual({
      ok: true,
      settings: {
        namespaces: [],
        maxConcurrentChecks: 4,
        metricsPort: 8080,
        leaderElect: true,
        leaseNamespace: 'default',
        leaseName: 'dbwatch-operator',
        shutdownGraceSeconds: 20,
        logLevel: 'info',
        checkLimits: { concurrency: 64, perHost: 4 },
        apiRateLimit: { qps: 50, burst: 100 },
        discovery: { sources: [], clusterNamespaces: ['default'] },
      },
    });
  });

  test('discovery: the sources enabled and the namespaces allowed to discover cluster-wide (default: its own)', () => {
    expect(
      parseOperatorSettings({ DISCOVERY_SOURCES: 'cloudnativepg, secrets', POD_NAMESPACE: 'dbwatch-system' }),
    ).toMatchObject({
      ok: true,
      settings: { discovery: { sources: ['cloudnativepg', 'secrets'], clusterNamespaces: ['dbwatch-system'] } },
    });
    expect(parseOperatorSettings({ DISCOVERY_SOURCES: 'cnpg', DISCOVERY_CLUSTER_NAMESPACES: 'ops,Bad' })).toEqual({
      ok: false,
      errors: [
        'DISCOVERY_SOURCES="cnpg": "cnpg" is not one of cloudnativepg, crunchy, zalando, secrets',
        'DISCOVERY_CLUSTER_NAMESPACES="ops,Bad": "Bad" is not a namespace name (lowercase DNS label)',
      ],
    });
  });

  test('every bad value is reported at once, by variable, never as NaN', () => {
    const parsed = parseOperatorSettings({
      MAX_CONCURRENT_CHECKS: 'four',
      METRICS_PORT: '99999',
      SHUTDOWN_GRACE_SECONDS: '-1',
      LEADER_ELECT: 'maybe',
      LOG_LEVEL: 'loud',
      WATCH_NAMESPACES: 'shop, Bad_NS',
      POD_NAMESPACE: 'Kube System',
      LEADER_ELECTION_LEASE: 'x/y',
      CHECK_CONCURRENCY: '0',
      KUBE_API_QPS: 'fast',
    });
    expect(parsed).toEqual({
      ok: false,
      errors: [
        'WATCH_NAMESPACES="shop, Bad_NS": "Bad_NS" is not a namespace name (lowercase DNS label)',
        'MAX_CONCURRENT_CHECKS="four": must be a whole number from 1 to 256',
        'CHECK_CONCURRENCY="0": must be a whole number ≥ 1',
        'KUBE_API_QPS="fast": must be a number > 0',
        'METRICS_PORT="99999": must be a whole number from 0 to 65535',
        'LEADER_ELECT="maybe": must be true or false (also 1/0, yes/no)',
        'LEADER_ELECTION_LEASE="x/y": must be a lowercase DNS name',
        'POD_NAMESPACE="Kube System": must be a namespace name (lowercase DNS label)',
        'SHUTDOWN_GRACE_SECONDS="-1": must be a whole number from 0 to 3600',
        'LOG_LEVEL="loud": must be one of fatal, error, warn, info, debug, trace, silent',
      ],
    });
    expect(JSON.stringify(parsed)).not.toContain('NaN');
  });

  test('ALERTMANAGER_* settings are checked with the others; absent, direct notifications are off', () => {
    expect(parseOperatorSettings({ ALERTMANAGER_URL: 'am:9093', METRICS_PORT: 'x' })).toEqual({
      ok: false,
      errors: [
        'METRICS_PORT="x": must be a whole number from 0 to 65535',
        'ALERTMANAGER_URL: "am:9093" must be http:// or https://',
      ],
    });
    const on = parseOperatorSettings({ ALERTMANAGER_URL: 'http://alertmanager.monitoring:9093' });
    expect(on.ok && on.settings.alertmanager?.endpoints).toEqual([
      { url: 'http://alertmanager.monitoring:9093', timeoutMs: 10_000 },
    ]);
    const off = parseOperatorSettings({});
    expect(off.ok && off.settings.alertmanager).toBeUndefined();
  });

  test('`dbwatch operator` with a bad setting prints what is wrong and exits 3 before connecting anywhere', async () => {
    const result = await new Promise<{ code: number | null; stderr: string }>((done) => {
      const env = { PATH: process.env.PATH, METRICS_PORT: 'eighty', KUBECONFIG: '/nonexistent' };
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'operator'],
        { env },
        (_e, _o, stderr) => done({ code: child.exitCode, stderr }),
      );
    });
    expect(result.stderr).toBe(
      'invalid operator settings, not started:\n  METRICS_PORT="eighty": must be a whole number from 0 to 65535\n',
    );
    expect(result.code).toBe(3);
  });

  test('check and API limits: CHECK_CONCURRENCY, CHECKS_PER_HOST, KUBE_API_QPS, KUBE_API_BURST', () => {
    expect(
      parseOperatorSettings({
        CHECK_CONCURRENCY: '200',
        CHECKS_PER_HOST: '8',
        KUBE_API_QPS: '5.5',
        KUBE_API_BURST: '10',
      }),
    ).toMatchObject({
      ok: true,
      settings: { checkLimits: { concurrency: 200, perHost: 8 }, apiRateLimit: { qps: 5.5, burst: 10 } },
    });
    // The bucket holds whole requests: a burst of 0.5 could never let one through.
    expect(parseOperatorSettings({ CHECKS_PER_HOST: '0', KUBE_API_BURST: '0.5' })).toEqual({
      ok: false,
      errors: ['CHECKS_PER_HOST="0": must be a whole number ≥ 1', 'KUBE_API_BURST="0.5": must be a whole number ≥ 1'],
    });
  });

  test('one table parses, documents and helps: every variable read is in --help and docs/operator.md, alike', () => {
    const read = new Set<string>();
    const env = new Proxy({} as NodeJS.ProcessEnv, {
      get: (_t, name) => {
        if (typeof name === 'string') read.add(name);
        return undefined;
      },
    });
    parseOperatorSettings(env);
    const names = Object.values(OPERATOR_SETTINGS).map((s) => s.name);
    expect([...read].sort()).toEqual([...names].sort());
    expect(names).toHaveLength(20);
    const help = renderSettingsHelp();
    const docs = readFileSync('docs/operator.md', 'utf8');
    expect(docs).toContain(renderSettingsTable());
    for (const s of Object.values(OPERATOR_SETTINGS)) {
      expect(help).toMatch(new RegExp(`\\n  ${s.name} +`));
      // The same words in --help (wrapped at word boundaries) and in the docs.
      expect(help.replace(/\s+/g, ' ')).toContain(`${s.description} (default: ${s.shown})`);
    }
    for (const line of help.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
  });

  test('the values an operator is deployed with are read', () => {
    const parsed = parseOperatorSettings({
      WATCH_NAMESPACES: 'a,b',
      MAX_CONCURRENT_CHECKS: '8',
      METRICS_PORT: '0',
      LEADER_ELECT: 'False',
      LEADER_ELECTION_NAMESPACE: 'ops',
      POD_NAMESPACE: 'ignored',
      POD_NAME: 'dbwatch-0',
      SHUTDOWN_GRACE_SECONDS: '0',
      LOG_LEVEL: 'debug',
    });
    expect(parsed).toMatchObject({
      ok: true,
      settings: {
        namespaces: ['a', 'b'],
        maxConcurrentChecks: 8,
        metricsPort: 0,
        leaderElect: false,
        leaseNamespace: 'ops',
        identity: 'dbwatch-0',
        shutdownGraceSeconds: 0,
        logLevel: 'debug',
      },
    });
  });
});
