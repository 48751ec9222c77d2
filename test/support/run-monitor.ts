import type { DatabaseMonitorSpec } from '../../src/api/index.js';
import { checkMonitorOnce, resolveMonitorConnection } from '../../src/checks/index.js';
import { monitorSpec } from './pg-fixtures.js';

type Secrets = Record<string, string> | ((name: string) => Record<string, string> | undefined);

/**
 * Runs a monitor once the way `dbwatch check` does, with the given Secret data: one Secret's data for
 * every name, or a lookup by Secret name.
 */
export async function runMonitor(secrets: Secrets, specInput: Record<string, unknown> = {}) {
  const spec: DatabaseMonitorSpec = monitorSpec(specInput);
  const resolved = resolveMonitorConnection(spec, typeof secrets === 'function' ? secrets : () => secrets);
  if (!resolved.ok) throw new Error(resolved.message);
  return checkMonitorOnce(spec, resolved);
}
