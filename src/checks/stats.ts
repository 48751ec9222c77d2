import type { Timing } from '../api/index.js';
import { round2 } from './timeout.js';

export const PERCENTILE_METHOD = 'nearest-rank over the successful samples (with 5 samples p95 is the maximum)';

/** Nearest-rank percentile: the smallest sample with at least p% of samples at or below it. */
export function percentile(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

export function summarizeTimings(samples: number[]): Timing | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    avgMs: round2(sorted.reduce((s, x) => s + x, 0) / sorted.length),
    p50Ms: round2(percentile(sorted, 50)),
    p95Ms: round2(percentile(sorted, 95)),
    minMs: round2(sorted[0]!),
    maxMs: round2(sorted.at(-1)!),
  };
}
