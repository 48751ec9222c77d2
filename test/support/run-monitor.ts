import type { DatabaseMonitorSpec } from '../../src/api/index.js';
import { checkMonitorOnce, resolveMonitorConnection } from '../../src/checks/index.js';
import { monitorSpec } from './pg-fixtures.js';

/** Runs a monitor once the way `dbwatch check` does, with the given Secret data. */
export async function runMonitor(secret: Record<string, string>, specInput: Record<string, unknown> = {}) {
  const spec: DatabaseMonitorSpec = monitorSpec(specInput);
  const resolved = resolveMonitorConnection(spec, () => secret);
  if (!resolved.ok) throw new Error(resolved.message);
  return checkMonitorOnce(spec, resolved);
}
