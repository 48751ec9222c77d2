import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import type { z } from 'zod';
import {
  type DatabaseMonitor,
  type DatabasePrerequisite,
  databaseMonitorSchema,
  databasePrerequisiteSchema,
} from '../api/index.js';
import type { SecretLookup } from '../checks/index.js';

export interface Manifests {
  monitors: DatabaseMonitor[];
  prerequisites: DatabasePrerequisite[];
  /** Decoded Secret data by namespace/name. */
  secrets: Map<string, Record<string, string>>;
  problems: string[];
  skipped: string[];
}

const namespaceOf = (doc: { metadata?: { namespace?: string } }) => doc.metadata?.namespace ?? 'default';

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

function formatIssues(where: string, error: z.ZodError): string[] {
  return error.issues.map((i) => `${where}: ${i.path.join('.') || '(root)'}: ${i.message}`);
}

function decodeSecret(doc: Record<string, unknown>): Record<string, string> {
  const data = (doc.data ?? {}) as Record<string, string>;
  const stringData = (doc.stringData ?? {}) as Record<string, string>;
  const decoded = Object.fromEntries(
    Object.entries(data).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString('utf8')]),
  );
  return { ...decoded, ...Object.fromEntries(Object.entries(stringData).map(([k, v]) => [k, String(v)])) };
}

/** Reads every document; schema problems are collected with file, object and field path. */
export function loadManifests(paths: string[]): Manifests {
  const out: Manifests = { monitors: [], prerequisites: [], secrets: new Map(), problems: [], skipped: [] };
  for (const file of expandPaths(paths)) {
    let docs: unknown[];
    try {
      docs = loadAll(readFileSync(file, 'utf8'));
    } catch (error) {
      out.problems.push(`${file}: not valid YAML: ${(error as Error).message.split('\n')[0]}`);
      continue;
    }
    for (const doc of docs) {
      if (doc === null || typeof doc !== 'object') continue;
      const d = doc as Record<string, unknown> & { kind?: string; metadata?: { name?: string; namespace?: string } };
      const where = `${file}: ${d.kind ?? '(no kind)'}/${d.metadata?.name ?? '(no name)'}`;
      if (d.kind === 'Secret') {
        out.secrets.set(`${namespaceOf(d)}/${d.metadata?.name}`, decodeSecret(d));
      } else if (d.kind === 'DatabaseMonitor') {
        const parsed = databaseMonitorSchema.safeParse(d);
        if (parsed.success) out.monitors.push(parsed.data);
        else out.problems.push(...formatIssues(where, parsed.error));
      } else if (d.kind === 'DatabasePrerequisite') {
        const parsed = databasePrerequisiteSchema.safeParse(d);
        if (parsed.success) out.prerequisites.push(parsed.data);
        else out.problems.push(...formatIssues(where, parsed.error));
      } else {
        out.skipped.push(where);
      }
    }
  }
  return out;
}

/**
 * Secrets from the files first, then from the environment: DBWATCH_SECRET_<NAME>_<KEY>, upper-cased,
 * other characters as _ (for example DBWATCH_SECRET_ORDERS_DB_PASSWORD).
 */
export function secretLookup(
  manifests: Manifests,
  namespace: string,
  env: NodeJS.ProcessEnv = process.env,
): SecretLookup {
  return (name) => {
    const fromFile = manifests.secrets.get(`${namespace}/${name}`);
    if (fromFile) return fromFile;
    const prefix = `DBWATCH_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_`;
    const entries = Object.entries(env)
      .filter(([k, v]) => k.startsWith(prefix) && v !== undefined)
      .map(([k, v]) => [k.slice(prefix.length).toLowerCase(), v as string]);
    return entries.length > 0 ? Object.fromEntries(entries) : undefined;
  };
}

export { namespaceOf };
