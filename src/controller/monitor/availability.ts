import type { AvailabilityStatus } from '../../api/index.js';

/*
 * The availability SLO of a monitor: the share of checks in which the database was reachable and healthy,
 * over the last 24 h and 7 d. Kept in status as compact buckets (hourly for the last 24 h, daily for the
 * last 7 d) so it survives operator restarts and leader changes — the one part of status that is history
 * rather than a fresh observation. Pure: the clock is the caller's `now`.
 */

type Bucket = AvailabilityStatus['hours'][number];

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Bucket starts are the same few strings for every monitor: one instance each (2,000 monitors × 31 buckets). */
const starts = new Map<number, string>();
const floorTo = (now: Date, unitMs: number) => {
  const at = Math.floor(now.getTime() / unitMs) * unitMs;
  let start = starts.get(at);
  if (start === undefined) {
    if (starts.size >= 64) starts.clear();
    start = new Date(at).toISOString();
    starts.set(at, start);
  }
  return start;
};

function addTo(buckets: Bucket[], start: string, available: boolean): Bucket[] {
  const last = buckets.at(-1);
  const add = available ? 1 : 0;
  if (last?.start === start)
    return [...buckets.slice(0, -1), { start, checks: last.checks + 1, available: last.available + add }];
  return [...buckets, { start, checks: 1, available: add }];
}

const within = (buckets: Bucket[], from: number) => buckets.filter((b) => Date.parse(b.start) >= from);

function ratio(buckets: Bucket[]): number | undefined {
  const checks = buckets.reduce((n, b) => n + b.checks, 0);
  if (checks === 0) return undefined;
  return Math.round((buckets.reduce((n, b) => n + b.available, 0) / checks) * 10_000) / 10_000;
}

/** Parses "99.9" (percent) into 0.999. */
export const targetRatio = (target: string) => Math.round(Number(target) * 1_000_000) / 100_000_000;

/**
 * The availability block for `now`: buckets outside their window dropped, ratios recomputed, one check
 * added when `available` is given, and the error budget left when a target is set (1 = untouched,
 * 0 = spent, negative = overspent).
 */
export function nextAvailability(
  previous: AvailabilityStatus | undefined,
  now: Date,
  options: { available?: boolean; target?: string },
): AvailabilityStatus | undefined {
  let hours = within(previous?.hours ?? [], now.getTime() - 23 * HOUR_MS - (now.getTime() % HOUR_MS));
  let days = within(previous?.days ?? [], now.getTime() - 6 * DAY_MS - (now.getTime() % DAY_MS));
  if (options.available !== undefined) {
    hours = addTo(hours, floorTo(now, HOUR_MS), options.available);
    days = addTo(days, floorTo(now, DAY_MS), options.available);
  }
  if (hours.length === 0 && days.length === 0) return undefined;
  const last24h = ratio(hours);
  const last7d = ratio(days);
  const target = options.target;
  const budget =
    target === undefined || last7d === undefined ? undefined : errorBudgetLeft(last7d, targetRatio(target));
  // Assigned one by one rather than built with conditional spreads, which gave each status its own hidden class.
  const status: AvailabilityStatus = { hours, days };
  if (last24h !== undefined) status.last24h = last24h;
  if (last7d !== undefined) status.last7d = last7d;
  if (target !== undefined) status.target = target;
  if (budget !== undefined) status.errorBudgetRemaining = budget;
  return status;
}

function errorBudgetLeft(observed: number, target: number): number {
  const allowed = 1 - target;
  if (allowed <= 0) return observed >= 1 ? 1 : 0;
  return Math.round((1 - (1 - observed) / allowed) * 10_000) / 10_000;
}
