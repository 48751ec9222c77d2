import type { HealthStatus, PrerequisiteStatus } from '../api/index.js';

export const EXIT = { ok: 0, degraded: 1, unhealthy: 2, invalidInput: 3 } as const;

const BY_STATUS: Record<HealthStatus | PrerequisiteStatus, number> = {
  healthy: EXIT.ok,
  passed: EXIT.ok,
  degraded: EXIT.degraded,
  warning: EXIT.degraded,
  unhealthy: EXIT.unhealthy,
  failed: EXIT.unhealthy,
};

/** The worst status decides: 0 all healthy, 1 degraded or warning, 2 unhealthy or failed. */
export const exitCodeFor = (statuses: (HealthStatus | PrerequisiteStatus)[]) =>
  Math.max(EXIT.ok, ...statuses.map((s) => BY_STATUS[s]));
