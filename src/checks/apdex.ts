import type { PerformanceRating } from '../api/index.js';

/**
 * Apdex with target T: satisfied at or below T, tolerating up to 4T, frustrated above (or failed).
 * Score = (satisfied + tolerating / 2) / all samples.
 */
export function apdex(samplesMs: number[], failures: number, targetMs: number): number {
  const total = samplesMs.length + failures;
  if (total === 0) return 0;
  const satisfied = samplesMs.filter((ms) => ms <= targetMs).length;
  const tolerating = samplesMs.filter((ms) => ms > targetMs && ms <= 4 * targetMs).length;
  return Math.round(((satisfied + tolerating / 2) / total) * 1000) / 1000;
}

export function ratingFor(score: number): PerformanceRating {
  if (score >= 0.94) return 'excellent';
  if (score >= 0.85) return 'good';
  if (score >= 0.7) return 'fair';
  return 'poor';
}
