import { afterAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { dump } from 'js-yaml';
import {
  DURATION_LIMITS,
  databaseMonitorSpecSchema,
  databasePrerequisiteSpecSchema,
  parseDuration,
} from '../../src/api/index.js';
import {
  decodeSecretData,
  type ResolveResult,
  resolveMonitorConnection,
  type SecretLookup,
} from '../../src/checks/index.js';
import { formatProblem, type Manifests, namespaceOf, parseManifests, secretLookup } from '../../src/cli/manifests.js';
import { formatZodIssues } from '../../src/controller/monitor/reconciler.js';

/**
 * Property-based input fuzzing: valid resources and Secrets, mutated at random paths (values replaced, fields
 * deleted, unknown or typo'd fields added, YAML text corrupted), are thrown at the CLI's manifest parser and
 * at the reconciler's spec handling. Whatever comes in: no exception, and every error names a field path
 * (or a Secret and key). Reproduce a failure with the seed fast-check prints.
 */

const RUNS = 1000;
/** Every generated password carries this mark, so a leak into any message is visible. */
const MARK = 'S3cr3tMark';
const runs = {
  manifests: 0,
  monitorSpecs: 0,
  prerequisiteSpecs: 0,
  /** How the generated input fared, to show the fuzz reaches past the first check. */
  validManifestFiles: 0,
  validSpecs: 0,
  resolved: 0,
  refusedBy: {} as Record<string, number>,
};

// ---- generated values ------------------------------------------------------------------------------------

const trickyValue = fc.constantFrom<unknown>(
  '0s',
  '500ms',
  '1s',
  '24h',
  '25h',
  '99999999h',
  '1h30m',
  'soon',
  '',
  ' ',
  'verify_full',
  'verify-full',
  'disable',
  'postgres',
  'mssql',
  'mysql',
  'custom',
  '%',
  '%zz',
  'constructor',
  '__proto__',
  'Bad_Name',
  'db',
  'x'.repeat(300),
  '\u0000',
  '💥',
  -1,
  0,
  1,
  1.5,
  2 ** 31,
  Number.MAX_SAFE_INTEGER,
  1e308,
  -0,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  true,
  false,
  null,
);
/** Values that break code which assumes a shape: no string form, a prototype key, lengths and deep nesting. */
const hostileValue = fc.constantFrom<unknown>({ toString: 1, valueOf: 1 }, { toJSON: 1 }, { length: 1e9 }, [[[[[]]]]]);
const key = fc.oneof(
  fc.constantFrom(
    'mod',
    'mode',
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'interval',
    'extra',
    'keys',
    'caSecretRef',
    'enabled',
    'status',
    'name',
  ),
  fc.string({ maxLength: 8 }),
);
const leaf = fc.oneof(trickyValue, fc.string({ maxLength: 20 }), fc.integer(), fc.double(), fc.boolean());
const anyValue = fc.oneof(
  { weight: 4, arbitrary: leaf },
  { weight: 1, arbitrary: fc.array(leaf, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.array(fc.tuple(key, leaf), { maxLength: 3 }).map(ownObject) },
  { weight: 1, arbitrary: hostileValue },
);

/** Builds an object with own properties only, even for keys such as __proto__. */
function ownObject(entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries)
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

const password = fc.string({ maxLength: 12 }).map((s) => `${MARK}${s}`);
const url = fc
  .record({
    scheme: fc.constantFrom('postgres', 'postgresql', 'mssql', 'sqlserver', 'mysql', 'http'),
    user: fc.oneof(fc.constant('app'), fc.string({ maxLength: 6 })),
    password,
    host: fc.constantFrom('db.example', '[::1]', '', 'h', 'bad host'),
    port: fc.constantFrom('', ':5432', ':99999', ':0', ':x'),
    path: fc.constantFrom('/orders', '/INST/orders', '', '/%zz', '/or%2Fders'),
    query: fc.constantFrom(
      '',
      '?sslmode=require',
      '?sslmode=verify-full',
      '?sslmode=verify_full',
      '?sslmode=',
      '?sslmode=require&sslmode=disable',
      '?sslrootcert=/ca.pem',
      '?application_name=x',
      '?sslmode=constructor',
    ),
    encode: fc.boolean(),
  })
  .map((u) => {
    const part = (s: string) => (u.encode ? encodeURIComponent(s) : s);
    return `${u.scheme}://${part(u.user)}:${part(u.password)}@${u.host}${u.port}${u.path}${u.query}`;
  });
const ado = fc
  .record({
    server: fc.constantFrom('tcp:sql.example,1433', 'sql.example\\INST', '', 'h,x'),
    password,
    encrypt: fc.constantFrom('', ';Encrypt=true', ';Encrypt=Strict', ';Encrypt=maybe', ';Encrypt=no'),
    trust: fc.constantFrom('', ';TrustServerCertificate=yes', ';TrustServerCertificate=sure'),
    junk: fc.constantFrom('', ';novalue', ';;', ';Application Name=x'),
  })
  .map((a) => `Server=${a.server};Database=Orders;User Id=app;Password=${a.password}${a.encrypt}${a.trust}${a.junk}`);
const secretText = fc.oneof(
  url,
  ado,
  password,
  fc.string({ maxLength: 12 }),
  trickyValue.filter((v) => typeof v === 'string'),
);
const secretKey = fc.oneof(
  fc.constantFrom(
    'url',
    'host',
    'port',
    'database',
    'username',
    'password',
    'instance',
    'ca.crt',
    'constructor',
    '__proto__',
  ),
  fc.stringMatching(/^[-._a-zA-Z0-9]{1,8}$/),
  fc.string({ maxLength: 6 }),
);
const base64Value = fc.oneof(
  { weight: 3, arbitrary: (secretText as fc.Arbitrary<string>).map((s) => Buffer.from(s).toString('base64')) },
  { weight: 1, arbitrary: fc.oneof(secretText, fc.constantFrom('/w==', 'aGk', 'aGk=\n', '!!!!'), leaf) },
);
/** A Secret as people write them (a url, or discrete keys), each key present or not. */
const plausibleSecret = fc.record(
  {
    url: fc.oneof(url, ado),
    host: fc.constantFrom('db.example', ''),
    port: fc.constantFrom('5432', '', 'x', '99999', '0x10'),
    database: fc.constant('orders'),
    username: fc.constant('app'),
    password,
    'ca.crt': fc.constant('-----BEGIN CERTIFICATE-----'),
  },
  { requiredKeys: [] },
);
const randomSecret = fc.array(fc.tuple(secretKey, fc.oneof(secretText, leaf)), { maxLength: 7 }).map(ownObject);
/** Secret `data`: mostly valid base64 of the text, sometimes junk, a number or null in its place. */
const secretData = fc
  .tuple(
    fc.oneof({ weight: 3, arbitrary: plausibleSecret }, { weight: 1, arbitrary: randomSecret }),
    fc.oneof(
      { weight: 3, arbitrary: fc.constant([]) },
      { weight: 1, arbitrary: fc.array(fc.tuple(secretKey, base64Value), { maxLength: 2 }) },
    ),
  )
  .map(([values, junk]) =>
    ownObject([
      ...Object.entries(values).map(([k, v]): [string, unknown] => [
        k,
        typeof v === 'string' ? Buffer.from(v).toString('base64') : v,
      ]),
      ...junk,
    ]),
  );
const secretStringData = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: plausibleSecret },
  fc
    .array(fc.tuple(secretKey, fc.oneof({ weight: 4, arbitrary: secretText }, { weight: 1, arbitrary: leaf })), {
      maxLength: 7,
    })
    .map(ownObject),
);

/** A value in one run of four, else null. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });

// ---- mutations -------------------------------------------------------------------------------------------

interface Mutation {
  at: number;
  op: 'replace' | 'delete' | 'add' | 'rename';
  key: string;
  value: unknown;
}
const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('replace', 'delete', 'add', 'rename'),
  key,
  value: anyValue,
});
/** Often none, so that valid documents reach connection resolution next to broken ones. */
const mutationsWeighted = (none: number, some: number) =>
  fc.oneof(
    { weight: none, arbitrary: fc.constant<Mutation[]>([]) },
    { weight: some, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) },
  );
const mutations = mutationsWeighted(2, 3);
/** In a file of four documents, most documents stay intact so whole files are valid now and then. */
const documentMutations = mutationsWeighted(3, 1);

type Container = Record<string, unknown> | unknown[];
const isContainer = (v: unknown): v is Container => v !== null && typeof v === 'object';

/** Every (container, key) pair in a tree, parents first. */
function slots(root: Container): [Container, string][] {
  const out: [Container, string][] = [];
  const walk = (node: Container) => {
    for (const k of Object.keys(node)) {
      out.push([node, k]);
      const child = (node as Record<string, unknown>)[k];
      if (isContainer(child)) walk(child);
    }
  };
  walk(root);
  return out;
}

/**
 * A deep copy made of this realm's plain objects and arrays (structuredClone under jest's VM makes objects of
 * another realm, which js-yaml's dump silently drops as not plain).
 */
function copy<T>(value: T): T {
  if (Array.isArray(value)) return value.map(copy) as T;
  if (!isContainer(value)) return value;
  return ownObject(Object.entries(value).map(([k, v]): [string, unknown] => [k, copy(v)])) as T;
}

const setOwn = (node: Container, k: string, value: unknown) =>
  Object.defineProperty(node, k, { value, enumerable: true, writable: true, configurable: true });

/** Applies mutations to a deep copy; the root object is a wrapper so whole documents can be replaced too. */
function mutate<T>(value: T, list: Mutation[]): unknown {
  const root = { value: copy(value) } as Record<string, unknown>;
  for (const mutation of list) {
    // Generated values may be shared constants: insert copies, so later mutations never edit the constant.
    const m = { ...mutation, value: copy(mutation.value) };
    const all = slots(root);
    const [node, k] = all[m.at % all.length]!;
    const current = (node as Record<string, unknown>)[k];
    if (m.op === 'replace') setOwn(node, k, m.value);
    else if (m.op === 'delete' && node !== root) {
      if (Array.isArray(node)) node.splice(Number(k), 1);
      else delete node[k];
    } else if (m.op === 'add') setOwn(isContainer(current) && !Array.isArray(current) ? current : node, m.key, m.value);
    else if (m.op === 'rename' && node !== root && !Array.isArray(node)) {
      delete node[k];
      setOwn(node, `${k}${m.key.slice(0, 2)}`, current);
    }
  }
  return root.value;
}

// ---- valid starting points -------------------------------------------------------------------------------

const monitorSpec = {
  engine: 'postgres',
  connection: {
    secretRef: { name: 'db', keys: { password: 'password', url: 'url' } },
    tls: { mode: 'verify-full', caSecretRef: { name: 'ca', key: 'ca.crt' } },
    connectTimeoutSeconds: 5,
  },
  interval: '30s',
  timeoutSeconds: 10,
  suspend: false,
  checks: {
    pool: { enabled: true },
    performance: { queries: [{ name: 'q', sql: 'SELECT 1' }], iterations: 3, targetMs: 50, interval: '1h' },
    migrations: { tool: 'flyway', expectedVersion: '3' },
  },
  thresholds: { responseTimeMs: 100, poolUtilizationPercent: 80, failureThreshold: 2, successThreshold: 1 },
};
const prerequisiteSpec = {
  databases: [
    { name: 'orders', monitorRef: { name: 'orders' } },
    { name: 'legacy', engine: 'mssql', connection: { secretRef: { name: 'db' }, tls: { mode: 'require' } } },
  ],
  checkMigrations: true,
  performanceThresholdMs: 500,
  allowWarnings: false,
  interval: '1m',
};
const resource = (kind: string, spec: unknown, namespace?: string) => ({
  apiVersion: 'dbwatch.dev/v1alpha1',
  kind,
  metadata: { name: kind === 'DatabaseMonitor' ? 'orders' : 'ready', ...(namespace ? { namespace } : {}) },
  spec,
});
const secret = (name: string, data: unknown, stringData: unknown) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name },
  type: 'Opaque',
  data,
  stringData,
});
const extraDocument = fc.constantFrom<unknown>(
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } },
  { apiVersion: 'dbwatch.dev/v1alpha1', kind: 'DatabaseMonitors', metadata: { name: 'x' } },
  resource('DatabaseMonitor', monitorSpec),
  ['a', 'list'],
  'just text',
  42,
  { foo: 'bar' },
);

// ---- checks shared by both front ends --------------------------------------------------------------------

/** A failed resolution names its Secret, and a key unless the Secret itself is missing; never a password. */
function expectNamedFailure(result: ResolveResult) {
  if (result.ok) {
    runs.resolved++;
    return;
  }
  runs.refusedBy[result.reason] = (runs.refusedBy[result.reason] ?? 0) + 1;
  expect(result.message).toMatch(/^Secret [a-z0-9.-]+ /);
  if (result.reason !== 'SecretNotFound') expect(result.message).toMatch(/ key /);
  expect(result.message).not.toContain(MARK);
}

function resolveEverything(manifests: Manifests) {
  for (const monitor of manifests.monitors) {
    expectNamedFailure(resolveMonitorConnection(monitor.spec, secretLookup(manifests, namespaceOf(monitor), {})));
  }
  for (const prerequisite of manifests.prerequisites) {
    for (const db of prerequisite.spec.databases) {
      if (db.engine && db.connection) {
        const lookup = secretLookup(manifests, namespaceOf(prerequisite), {});
        expectNamedFailure(resolveMonitorConnection({ engine: db.engine, connection: db.connection }, lookup));
      }
    }
  }
}

const intervalBounds = [parseDuration(DURATION_LIMITS.min), parseDuration(DURATION_LIMITS.max)] as const;
const expectBounded = (interval: string) => {
  const ms = parseDuration(interval);
  expect(ms).toBeGreaterThanOrEqual(intervalBounds[0]);
  expect(ms).toBeLessThanOrEqual(intervalBounds[1]);
};

afterAll(() => {
  // The count of generated inputs, for the issue's closing note.
  console.log(`fuzz runs: ${JSON.stringify(runs)}`);
});

describe('fuzz: mutated specs and Secrets never raise, and every error names where', () => {
  test(`the CLI manifest parser and connection resolution (${RUNS} generated files)`, () => {
    const file = fc.record({
      monitor: documentMutations.map((m) => mutate(resource('DatabaseMonitor', monitorSpec), m)),
      prerequisite: documentMutations.map((m) => mutate(resource('DatabasePrerequisite', prerequisiteSpec), m)),
      secret: fc
        .tuple(secretData, secretStringData, documentMutations)
        .map(([data, stringData, m]) => mutate(secret('db', data, stringData), m)),
      ca: fc.oneof(
        {
          weight: 3,
          arbitrary: fc.constant(secret('ca', { 'ca.crt': Buffer.from('PEM').toString('base64') }, undefined)),
        },
        { weight: 1, arbitrary: fc.tuple(secretData, secretStringData).map(([d, s]) => secret('ca', d, s)) },
      ),
      extras: fc.oneof(
        { weight: 3, arbitrary: fc.constant([]) },
        { weight: 1, arbitrary: fc.array(extraDocument, { minLength: 1, maxLength: 3 }) },
      ),
      corruption: sometimes(fc.tuple(fc.nat(), fc.string({ maxLength: 4 }))),
      // metadata.name and namespace are read before validation (duplicates, messages): hit them directly.
      identity: sometimes(fc.tuple(fc.nat(3), fc.constantFrom('name', 'namespace'), fc.oneof(hostileValue, anyValue))),
    });
    fc.assert(
      fc.property(file, (f) => {
        runs.manifests++;
        const docs = [f.secret, f.ca, f.monitor, f.prerequisite, ...f.extras];
        if (f.identity) {
          const [index, field, value] = f.identity;
          const metadata = (docs[index] as { metadata?: unknown }).metadata;
          if (isContainer(metadata)) setOwn(metadata, field, copy(value));
        }
        let text = docs.map((d) => dump(d, { skipInvalid: true })).join('---\n');
        if (f.corruption) {
          const at = f.corruption[0] % (text.length + 1);
          text = text.slice(0, at) + f.corruption[1] + text.slice(at);
        }
        const manifests = parseManifests([{ file: 'fuzz.yaml', text }]);
        for (const problem of manifests.problems) {
          expect(problem.where.startsWith('fuzz.yaml')).toBe(true);
          expect(problem.path).toMatch(/\S/);
          expect(problem.message).toMatch(/\S/);
          if (!f.corruption) expect(formatProblem(problem)).not.toContain(MARK);
        }
        if (manifests.problems.length === 0) runs.validManifestFiles++;
        resolveEverything(manifests);
        for (const monitor of manifests.monitors) {
          expectBounded(monitor.spec.interval);
          if (monitor.spec.checks.performance) expectBounded(monitor.spec.checks.performance.interval);
        }
      }),
      { numRuns: RUNS },
    );
    expect(runs.manifests).toBeGreaterThanOrEqual(RUNS);
  });

  test(`the reconcilers' spec handling: DatabaseMonitor (${RUNS} generated specs)`, () => {
    const secrets = fc.record({ db: secretData, ca: secretData });
    fc.assert(
      fc.property(mutations, secrets, (m, data) => {
        runs.monitorSpecs++;
        const spec = mutate(monitorSpec, m);
        const parsed = databaseMonitorSpecSchema.safeParse(spec);
        if (!parsed.success) {
          expectFieldPaths(parsed.error.issues, formatZodIssues(parsed.error));
          return;
        }
        runs.validSpecs++;
        expectBounded(parsed.data.interval);
        if (parsed.data.checks.performance) expectBounded(parsed.data.checks.performance.interval);
        expectNamedFailure(resolveMonitorConnection(parsed.data, operatorLookup(data)));
      }),
      { numRuns: RUNS },
    );
    expect(runs.monitorSpecs).toBeGreaterThanOrEqual(RUNS);
  });

  test(`the reconcilers' spec handling: DatabasePrerequisite (${RUNS} generated specs)`, () => {
    fc.assert(
      fc.property(mutations, secretData, (m, data) => {
        runs.prerequisiteSpecs++;
        const parsed = databasePrerequisiteSpecSchema.safeParse(mutate(prerequisiteSpec, m));
        if (!parsed.success) {
          expectFieldPaths(parsed.error.issues, formatZodIssues(parsed.error));
          return;
        }
        runs.validSpecs++;
        expectBounded(parsed.data.interval);
        for (const db of parsed.data.databases) {
          if (db.engine && db.connection) {
            const target = { engine: db.engine, connection: db.connection };
            expectNamedFailure(resolveMonitorConnection(target, operatorLookup({ db: data })));
          }
        }
      }),
      { numRuns: RUNS },
    );
    expect(runs.prerequisiteSpecs).toBeGreaterThanOrEqual(RUNS);
  });
});

/** Secrets as the operator sees them: base64 data from the API server, decoded by the k8s adapter. */
const operatorLookup =
  (secrets: Record<string, Record<string, unknown>>): SecretLookup =>
  (name) =>
    Object.hasOwn(secrets, name) ? decodeSecretData(secrets[name] as Record<string, string>) : undefined;

/** Each issue has a path (empty only for the spec itself), and the Stalled message carries one line per issue. */
function expectFieldPaths(issues: { path: PropertyKey[]; message: string }[], message: string) {
  expect(issues.length).toBeGreaterThan(0);
  for (const issue of issues) {
    expect(Array.isArray(issue.path)).toBe(true);
    expect(message).toContain(`${['spec', ...issue.path].join('.')}: ${issue.message}`);
  }
  expect(message).not.toContain(MARK);
}
