import { beforeAll, describe, expect, test } from '@jest/globals';
import { dump } from 'js-yaml';
import { formatProblem, parseManifests } from '../../../src/cli/manifests.js';
import { ensureCrds, freshNamespace, kubectl } from '../../support/kube.js';

/**
 * The API server and `dbwatch check` refuse the same input: unknown fields (kubectl's strict field
 * validation against the generated CRD schema) and durations out of bounds (the CRD's CEL rules).
 */

const monitor = (spec: Record<string, unknown>, name = 'orders') => ({
  apiVersion: 'dbwatch.dev/v1alpha1',
  kind: 'DatabaseMonitor',
  metadata: { name, labels: { team: 'shop' } },
  spec: { engine: 'postgres', connection: { secretRef: { name: 'db' } }, ...spec },
});

const prerequisite = (databases: unknown[]) => ({
  apiVersion: 'dbwatch.dev/v1alpha1',
  kind: 'DatabasePrerequisite',
  metadata: { name: 'ready' },
  spec: { databases },
});

let ns: string;
beforeAll(async () => {
  await ensureCrds();
  ns = await freshNamespace('strict');
});

/** kubectl apply --validate=strict against the real server; dry run so every test starts from nothing. */
const applyStrict = (object: unknown) =>
  kubectl(['apply', '--validate=strict', '--dry-run=server', '-n', ns, '-f', '-'], { input: dump(object) });

/** What `dbwatch check` says about the same object. */
const cliProblems = (object: unknown) =>
  parseManifests([{ file: 'in.yaml', text: dump(object) }]).problems.map(formatProblem);

describe('unknown fields are refused by the API server (kubectl --validate=strict) and by the CLI', () => {
  test('tls.mod (a typo of mode) in a DatabaseMonitor', async () => {
    const bad = monitor({ connection: { secretRef: { name: 'db' }, tls: { mod: 'verify-full' } } });
    const result = await applyStrict(bad);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/strict decoding error: unknown field "spec.connection.tls.mod"/);
    expect(cliProblems(bad)).toEqual(['in.yaml: DatabaseMonitor/orders: spec.connection.tls.mod: unknown field']);
  });

  test("kubectl's default validation is the strict one", async () => {
    const bad = monitor({ connection: { secretRef: { name: 'db' }, tls: { mod: 'verify-full' } } });
    const result = await kubectl(['apply', '--dry-run=server', '-n', ns, '-f', '-'], { input: dump(bad) });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/unknown field "spec.connection.tls.mod"/);
  });

  test('unknown fields at several depths are all named', async () => {
    const bad = monitor({ intervall: '5m', checks: { pool: { enable: false } }, thresholds: { responseTime: 5 } });
    const result = await applyStrict(bad);
    expect(result.code).not.toBe(0);
    for (const field of ['spec.intervall', 'spec.checks.pool.enable', 'spec.thresholds.responseTime']) {
      expect(result.stderr).toContain(`unknown field "${field}"`);
    }
    expect(cliProblems(bad)).toEqual([
      'in.yaml: DatabaseMonitor/orders: spec.checks.pool.enable: unknown field',
      'in.yaml: DatabaseMonitor/orders: spec.thresholds.responseTime: unknown field',
      'in.yaml: DatabaseMonitor/orders: spec.intervall: unknown field',
    ]);
  });

  test('an unknown field in a prerequisite database', async () => {
    const bad = prerequisite([{ name: 'orders', monitorRef: { name: 'orders', namespace: 'other' } }]);
    const result = await applyStrict(bad);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/unknown field "spec.databases\[0\].monitorRef.namespace"/);
    expect(cliProblems(bad)).toEqual([
      'in.yaml: DatabasePrerequisite/ready: spec.databases[0].monitorRef.namespace: unknown field',
    ]);
  });

  test('a valid monitor with labels in metadata is accepted by both', async () => {
    const good = monitor({ connection: { secretRef: { name: 'db' }, tls: { mode: 'verify-full' } } });
    const result = await applyStrict(good);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(cliProblems(good)).toEqual([]);
  });
});

describe('durations are bounded to 1s..24h on the server (CEL) and in the CLI', () => {
  test.each([
    ['spec.interval', { interval: '0s' }],
    ['spec.interval', { interval: '99999999h' }],
    ['spec.interval', { interval: '24h0m1s' }],
    ['spec.checks.performance.interval', { checks: { performance: { interval: '500ms' } } }],
  ])('%s in %j is refused', async (path, spec) => {
    const bad = monitor(spec);
    const result = await applyStrict(bad);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(path);
    expect(cliProblems(bad)).toEqual([`in.yaml: DatabaseMonitor/orders: ${path}: must be between 1s and 24h`]);
  });

  test.each(['0s', '24h0m1s'])('for %s the CEL rule gives the message the CLI prints', async (interval) => {
    const result = await applyStrict(monitor({ interval }));
    expect(result.stderr).toContain(`spec.interval: Invalid value: "${interval}": must be between 1s and 24h`);
  });

  test.each(['soon', '99999999999h', '9999999999999999999ms'])(
    'for %s the API server says what is wrong, never a CEL "type conversion error"',
    async (interval) => {
      const result = await applyStrict(monitor({ interval }));
      expect(result.code).not.toBe(0);
      expect(result.stderr).not.toMatch(/type conversion error|google\.protobuf\.Duration/);
      expect(result.stderr).toContain(`spec.interval: Invalid value: "${interval}": `);
      // One message each: the pattern's for text that is no duration, the bounds' for one out of range.
      expect(result.stderr.match(/spec\.interval: Invalid value/g)).toHaveLength(1);
    },
  );

  test('a duration with many digits but in range (3600000ms, 0000000001h) is accepted', async () => {
    for (const interval of ['3600000ms', '0000000001h']) {
      const result = await applyStrict(monitor({ interval }));
      expect({ interval, stderr: result.stderr, code: result.code }).toEqual({ interval, stderr: '', code: 0 });
    }
  });

  test('a prerequisite interval is bounded too', async () => {
    const bad = { ...prerequisite([{ name: 'orders', monitorRef: { name: 'orders' } }]) };
    bad.spec = { ...bad.spec, interval: '48h' } as typeof bad.spec;
    const result = await applyStrict(bad);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/spec.interval: .*must be between 1s and 24h/);
    expect(cliProblems(bad)).toEqual([
      'in.yaml: DatabasePrerequisite/ready: spec.interval: must be between 1s and 24h',
    ]);
  });

  test('the bounds themselves (1s, 24h, 1h30m) are accepted', async () => {
    const good = monitor({ interval: '1s', checks: { performance: { interval: '24h' } } });
    const result = await applyStrict(good);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect((await applyStrict(monitor({ interval: '1h30m' }))).code).toBe(0);
    expect(cliProblems(good)).toEqual([]);
  });
});

describe('Secret key names in secretRef.keys', () => {
  test('a name the API server would not allow as a Secret key is refused by both', async () => {
    const bad = monitor({ connection: { secretRef: { name: 'db', keys: { password: 'pass word' } } } });
    const result = await applyStrict(bad);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/spec.connection.secretRef.keys.password: Invalid value: "pass word"/);
    expect(cliProblems(bad)).toEqual([
      'in.yaml: DatabaseMonitor/orders: spec.connection.secretRef.keys.password: must be a Secret key name (letters, digits, -, _ and .)',
    ]);
  });
});
