import type { PostgresServer } from '../../test/support/postgres-server.js';
import { countIn, loggedActivity, logStatements, peakBin } from './postgres-log.js';
import { buckets, quantileBetween, scrape, total } from './prometheus.js';

/*
 * A restart of the operator in steady state (issue 21): SIGTERM, the process exits after its shutdown grace,
 * a new one starts at once, as a Deployment's rollout or a leader handover does. Counted from the database's
 * log (postgres-log.ts): checks in the last interval before the SIGTERM (a steady interval), in the first and
 * second interval after the new process started, the busiest BIN_S seconds of each against the steady mean,
 * and logins (new server sessions) per interval. The new process's own counter is printed beside it.
 */

const BIN_S = 5;

export interface Restartable {
  pg: PostgresServer;
  intervalS: number;
  /** The running operator's metrics port. */
  port(): number;
  /** Stops the running operator (SIGTERM); resolves when it has exited. */
  stop(): Promise<void>;
  /** Starts a new operator process; resolves to its metrics port. */
  start(): Promise<number>;
}

export interface RestartResult {
  shutdownSeconds: number;
  /** Checks per interval the database saw: steady (before the SIGTERM), first and second after the start. */
  checks: { steady: number; first: number; second: number };
  /** The busiest BIN_S seconds of each interval, over the steady mean per BIN_S seconds. */
  peakOverMean: { steady: number; first: number; second: number };
  logins: { steady: number; first: number; second: number };
  /** The new process's own count of health checks in its first interval, and its lag p99 and skipped slots. */
  operatorFirst: number;
  lagP99First?: { value: number; beyond: boolean };
  skippedFirst: number;
}

const sleepUntil = (ms: number) => new Promise((ok) => setTimeout(ok, Math.max(0, ms - Date.now())));

export async function measureRestart(r: Restartable, log: (m: string) => void): Promise<RestartResult> {
  const I = r.intervalS * 1000;
  await logStatements(r.pg, true);
  // A full interval with logging on before the SIGTERM (sessions pick the setting up at their next statement).
  await sleepUntil(Date.now() + I + 5000);
  const killAt = Date.now();
  log('restart: SIGTERM to the operator');
  await r.stop();
  const startAt = Date.now();
  log(`restart: exited after ${((startAt - killAt) / 1000).toFixed(1)} s; starting a new operator`);
  const port = await r.start();
  // The new process's counters at the end of its first interval, read as close to it as possible.
  await sleepUntil(startAt + I);
  const first = await scrape(port).catch(() => []);
  await sleepUntil(startAt + 2 * I + 2000);
  await logStatements(r.pg, false);

  const { checks, logins } = loggedActivity(r.pg);
  const windows = {
    steady: [killAt - I, killAt],
    first: [startAt, startAt + I],
    second: [startAt + I, startAt + 2 * I],
  } as const;
  const per = <T>(f: (from: number, to: number) => T) => ({
    steady: f(...windows.steady),
    first: f(...windows.first),
    second: f(...windows.second),
  });
  const checkCounts = per((from, to) => countIn(checks, from, to));
  const meanPerBin = (checkCounts.steady * BIN_S * 1000) / I;
  const histogram = buckets(first, 'dbwatch_schedule_lag_seconds');
  return {
    shutdownSeconds: (startAt - killAt) / 1000,
    checks: checkCounts,
    peakOverMean: per((from, to) => peakBin(checks, from, to, BIN_S * 1000) / meanPerBin),
    logins: per((from, to) => countIn(logins, from, to)),
    operatorFirst: total(first, 'dbwatch_check_duration_seconds_count', { check: 'health' }),
    ...(histogram.size > 0 ? { lagP99First: quantileBetween(new Map(), histogram, 0.99) } : {}),
    skippedFirst: total(first, 'dbwatch_checks_skipped_total'),
  };
}

export const restartBinSeconds = BIN_S;
