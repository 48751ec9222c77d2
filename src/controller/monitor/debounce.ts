import type { HealthStatus, Thresholds } from '../../api/index.js';

export interface Streak {
  /** The status reported to users, after damping. */
  reported?: HealthStatus;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
}

/**
 * Damps flapping: the reported status becomes unhealthy only after `failureThreshold` unhealthy checks
 * in a row, and healthy again only after `successThreshold` healthy checks in a row. Degraded is
 * reported at once (it is already a warning, not an outage). The first check is reported as it is.
 */
export function nextStreak(previous: Streak, observed: HealthStatus, thresholds: Thresholds): Streak {
  const failures = observed === 'unhealthy' ? previous.consecutiveFailures + 1 : 0;
  const successes = observed === 'healthy' ? previous.consecutiveSuccesses + 1 : 0;
  let reported = previous.reported;
  if (reported === undefined) reported = observed;
  else if (observed === 'unhealthy') reported = failures >= thresholds.failureThreshold ? 'unhealthy' : reported;
  else if (observed === 'healthy') reported = successes >= thresholds.successThreshold ? 'healthy' : reported;
  else reported = 'degraded';
  return { reported, consecutiveFailures: failures, consecutiveSuccesses: successes };
}
