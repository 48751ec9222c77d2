import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';

/** Writes a Secret named db and a DatabaseMonitor named orders using it to a temporary directory. */
export function writeManifests(input: {
  secret?: Record<string, string>;
  monitor?: Record<string, unknown>;
  extra?: Record<string, unknown>[];
}): string {
  const dir = mkdtempSync(join(tmpdir(), 'dbwatch-manifests-'));
  const docs: unknown[] = [];
  if (input.secret) docs.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: input.secret });
  if (input.monitor) {
    docs.push({
      apiVersion: 'dbwatch.dev/v1alpha1',
      kind: 'DatabaseMonitor',
      metadata: { name: 'orders' },
      spec: { engine: 'postgres', connection: { secretRef: { name: 'db' } }, ...input.monitor },
    });
  }
  docs.push(...(input.extra ?? []));
  writeFileSync(join(dir, 'manifests.yaml'), docs.map((d) => dump(d)).join('---\n'));
  return dir;
}
