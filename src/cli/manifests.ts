import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { z } from 'zod';
import {
  API_GROUP,
  type DatabaseMonitor,
  type DatabasePrerequisite,
  databaseMonitorSchema,
  databasePrerequisiteSchema,
  objectMetaSchema,
  secretKeyName,
} from '../api/index.js';
import { decodeSecretData, isBase64, type SecretData, type SecretLookup } from '../checks/index.js';

export interface Manifests {
  monitors: DatabaseMonitor[];
  prerequisites: DatabasePrerequisite[];
  /** Decoded Secret data by namespace/name. */
  secrets: Map<string, SecretData>;
  /** Invalid input: nothing may run. */
  problems: Problem[];
  /** Valid objects of kinds dbwatch does not read: reported, then skipped. */
  warnings: string[];
  /** Where each monitor and prerequisite came from ("file: Kind/name"), for later messages about it. */
  origins: WeakMap<object, string>;
}

/** One thing wrong with the input: where (file and object), the field path in it, and what is wrong. */
export interface Problem {
  where: string;
  path: string;
  message: string;
}

export const formatProblem = (p: Problem) => `${p.where}: ${p.path}: ${p.message}`;

/** One manifest file's text and the name it is reported under. */
export interface ManifestSource {
  file: string;
  text: string;
}

/**
 * YAML aliases share one object, so a "billion laughs" file parses in milliseconds and explodes only when
 * something walks it (validation, printing). Both the alias count and the expanded size are bounded.
 */
export const YAML_LIMITS = { maxAliases: 100, maxDepth: 100, maxNodesPerDocument: 100_000 } as const;

const namespaceOf = (doc: { metadata?: { namespace?: string } }) => doc.metadata?.namespace ?? 'default';

const secretValue = z.string({ error: 'must be a string (quote numbers, such as "5432")' });

/** A core/v1 Secret as a manifest holds it; data values must be base64, as the API server demands. */
const secretManifestSchema = z.strictObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('Secret'),
  metadata: objectMetaSchema,
  type: z.string().optional(),
  immutable: z.boolean().optional(),
  data: z.record(secretKeyName, secretValue.refine(isBase64, 'is not valid base64')).optional(),
  stringData: z.record(secretKeyName, secretValue).optional(),
});

/** Expands directories to their .yaml/.yml files (not recursive), in name order. */
export function expandPaths(paths: string[]): string[] {
  return paths.flatMap((p) =>
    statSync(p).isDirectory()
      ? readdirSync(p)
          .filter((f) => /\.ya?ml$/.test(f))
          .sort()
          .map((f) => join(p, f))
      : [p],
  );
}

/** Reads every file (directories expanded); see parseManifests. Throws only when a path cannot be read. */
export function loadManifests(paths: string[]): Manifests {
  return parseManifests(expandPaths(paths).map((file) => ({ file, text: readFileSync(file, 'utf8') })));
}

/** A field path as Kubernetes prints it: spec.databases[0].connection; other keys quoted: data["ca.crt"]. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    const name = String(key);
    if (!/^[A-Za-z_$][\w$-]*$/.test(name)) return `${text}[${JSON.stringify(name)}]`;
    return text ? `${text}.${name}` : name;
  }, '');
}

/** One problem per issue; an unknown field is named by its own path. */
export function zodProblems(where: string, error: z.ZodError): Problem[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ where, path: fieldPath([...issue.path, key]), message: 'unknown field' }))
      : [{ where, path: fieldPath(issue.path) || '(root)', message: issue.message }],
  );
}

/** Parses manifest texts without touching the disk; never throws. */
/** No objects yet (also what a run that could not read its files works with). */
export const emptyManifests = (): Manifests => ({
  monitors: [],
  prerequisites: [],
  secrets: new Map(),
  problems: [],
  warnings: [],
  origins: new WeakMap(),
});

export function parseManifests(sources: ManifestSource[]): Manifests {
  const out = emptyManifests();
  const seen = new Map<string, string>();
  for (const { file, text } of sources) {
    const docs = parseYaml(file, text, out.problems);
    docs.forEach((doc, index) => {
      const where = describe(file, doc, index);
      if (doc === null || doc === undefined) return;
      const problem = shapeProblem(doc);
      if (problem) {
        out.problems.push({ where, ...problem });
        return;
      }
      const d = doc as { apiVersion: string; kind: string; metadata?: { name?: unknown; namespace?: unknown } };
      if (!['Secret', 'DatabaseMonitor', 'DatabasePrerequisite'].includes(d.kind)) {
        if (d.kind === 'DatabaseDiscovery' && d.apiVersion.startsWith(`${API_GROUP}/`)) {
          // It finds databases in a cluster: nothing to check from files.
          out.warnings.push(`${where}: a DatabaseDiscovery is acted on by the operator only; skipped`);
        } else if (d.apiVersion.startsWith(`${API_GROUP}/`)) {
          out.problems.push({
            where,
            path: 'kind',
            message: `${d.kind} is not a kind of ${API_GROUP} (DatabaseMonitor, DatabasePrerequisite)`,
          });
        } else out.warnings.push(`${where}: kind ${d.kind} is not read by dbwatch; skipped`);
        return;
      }
      // Only text is interpolated: a YAML mapping such as {toString: 1} cannot be turned into a string.
      const text = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
      const namespace = text(d.metadata?.namespace ?? 'default');
      const identity = `${d.kind}/${namespace}/${text(d.metadata?.name)}`;
      const first = seen.get(identity);
      if (first !== undefined) {
        out.problems.push({
          where,
          path: 'metadata.name',
          message: `defined twice (same kind, namespace ${namespace} and name; first in ${first})`,
        });
        return;
      }
      seen.set(identity, file);
      addObject(out, where, d);
    });
  }
  return out;
}

function addObject(out: Manifests, where: string, doc: { kind: string }): void {
  if (doc.kind === 'Secret') {
    const parsed = secretManifestSchema.safeParse(doc);
    if (!parsed.success) out.problems.push(...zodProblems(where, parsed.error));
    else
      out.secrets.set(
        `${namespaceOf(parsed.data)}/${parsed.data.metadata.name}`,
        decodeSecretData(parsed.data.data, parsed.data.stringData),
      );
  } else if (doc.kind === 'DatabaseMonitor') {
    const parsed = databaseMonitorSchema.safeParse(doc);
    if (parsed.success) {
      out.monitors.push(parsed.data);
      out.origins.set(parsed.data, where);
    } else out.problems.push(...zodProblems(where, parsed.error));
  } else {
    const parsed = databasePrerequisiteSchema.safeParse(doc);
    if (parsed.success) {
      out.prerequisites.push(parsed.data);
      out.origins.set(parsed.data, where);
    } else out.problems.push(...zodProblems(where, parsed.error));
  }
}

function parseYaml(file: string, text: string, problems: Problem[]): unknown[] {
  let docs: unknown[];
  try {
    docs = loadAll(text, { maxAliases: YAML_LIMITS.maxAliases, maxDepth: YAML_LIMITS.maxDepth });
  } catch (error) {
    const { reason, mark } = error as { reason?: string; mark?: { line: number; column: number } };
    problems.push({
      where: file,
      path: mark ? `line ${mark.line + 1}, column ${mark.column + 1}` : '(file)',
      message: `not valid YAML: ${reason ?? String(error)}`,
    });
    return [];
  }
  const oversized = docs.findIndex((doc) => exceedsNodes(doc, YAML_LIMITS.maxNodesPerDocument));
  if (oversized >= 0) {
    problems.push({
      where: `${file}: document ${oversized + 1}`,
      path: '(root)',
      message: `expands to more than ${YAML_LIMITS.maxNodesPerDocument} values (YAML aliases?); refused`,
    });
    return [];
  }
  return docs;
}

/** Counts values as a walker would see them (aliases expanded, cycles endless) and stops at the limit. */
function exceedsNodes(doc: unknown, limit: number): boolean {
  const pending: unknown[] = [doc];
  let count = 0;
  while (pending.length > 0) {
    const value = pending.pop();
    if (++count > limit) return true;
    if (value !== null && typeof value === 'object') for (const child of Object.values(value)) pending.push(child);
  }
  return false;
}

/** What kubectl would refuse before looking at the kind: not a mapping, no apiVersion or kind. */
function shapeProblem(doc: unknown): Omit<Problem, 'where'> | undefined {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return { path: '(root)', message: 'not a Kubernetes object (expected a mapping)' };
  }
  const { apiVersion, kind } = doc as { apiVersion?: unknown; kind?: unknown };
  if (typeof apiVersion !== 'string' || apiVersion === '') {
    return { path: 'apiVersion', message: 'missing (every object needs one)' };
  }
  if (typeof kind !== 'string' || kind === '') return { path: 'kind', message: 'missing (every object needs one)' };
  return undefined;
}

function describe(file: string, doc: unknown, index: number): string {
  const d = (doc ?? {}) as { kind?: unknown; metadata?: { name?: unknown } };
  const kind = typeof d.kind === 'string' ? d.kind : undefined;
  const name = typeof d.metadata?.name === 'string' ? d.metadata.name : undefined;
  return kind && name ? `${file}: ${kind}/${name}` : `${file}: document ${index + 1}${kind ? ` (${kind})` : ''}`;
}

/** DBWATCH_SECRET_<NAME>_ for a Secret: upper-cased, other characters as _ (orders-db → DBWATCH_SECRET_ORDERS_DB_). */
export const secretEnvPrefix = (name: string) => `DBWATCH_SECRET_${envWord(name)}_`;
const envWord = (text: string) => text.toUpperCase().replace(/[^A-Z0-9]/g, '_');

/**
 * A Secret from the files, with keys from the environment on top: DBWATCH_SECRET_<NAME>_<KEY> supplies one key
 * (and wins over the same key in a file), so a Secret manifest kept in git can leave out the password. The key is
 * <KEY> lower-cased (PASSWORD → password), or the file's own key it stands for (CA_CRT → ca.crt).
 */
export function secretLookup(
  manifests: Manifests,
  namespace: string,
  env: NodeJS.ProcessEnv = process.env,
): SecretLookup {
  const lookup = (name: string) => {
    const fromFile = manifests.secrets.get(`${namespace}/${name}`);
    const prefix = secretEnvPrefix(name);
    const fileKeys = Object.keys(fromFile ?? {});
    const entries = Object.entries(env)
      .filter(([k, v]) => k.startsWith(prefix) && k.length > prefix.length && v !== undefined)
      .map(([k, v]) => {
        const suffix = k.slice(prefix.length);
        return [fileKeys.find((key) => envWord(key) === suffix) ?? suffix.toLowerCase(), v as string] as const;
      });
    if (!fromFile && entries.length === 0) return undefined;
    const fromEnv = decodeSecretData(undefined, Object.fromEntries(entries));
    return Object.assign(Object.create(null) as SecretData, fromFile, fromEnv);
  };
  return Object.assign(lookup, {
    where: (name: string) =>
      `in namespace ${namespace} (no Secret manifest in the files given, no ${secretEnvPrefix(name)}<KEY> variable)`,
  });
}

export { namespaceOf };
