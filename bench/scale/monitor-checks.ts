import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gridOf, slotOf } from '../../src/controller/monitor/schedule.js';
import type { PostgresServer } from '../../test/support/postgres-server.js';

/*
 * Each monitor's checks as PostgreSQL logged them: every statement dbwatch sends starts with
 * `/* dbwatch:<namespace>/<name>:<random> *\/`, and every health check reads the server version once, so the
 * server log (log_statement = all) says which monitor was checked when — by whichever replica, whatever the
 * replicas believe. The sharding benchmark counts done/due, duplicates and gaps from it.
 */

const CHECK_STATEMENT = "SELECT current_setting('server_version') AS version, pg_is_in_recovery() AS in_recovery";
const PREFIX = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) UTC /;
const MARKER = /\/\* dbwatch:([a-z0-9.-]+\/[a-z0-9.-]+):[0-9a-f]{16} \*\//;

/** Reads the server log as it grows: checks per monitor (`namespace/name` → epoch ms, in order). */
export class MonitorCheckLog {
  readonly checks = new Map<string, number[]>();
  private offset = 0;
  private rest = '';
  private at = 0;
  private label: string | undefined;

  constructor(private readonly pg: PostgresServer) {}

  private get file() {
    return join(this.pg.dataDir, 'log/postgresql.log');
  }

  /** Reads what the server logged since the last call. */
  read(): void {
    let size: number;
    try {
      size = statSync(this.file).size;
    } catch {
      return;
    }
    if (size <= this.offset) return;
    const fd = openSync(this.file, 'r');
    try {
      const chunk = Buffer.alloc(Math.min(size - this.offset, 256 * 2 ** 20));
      const read = readSync(fd, chunk, 0, chunk.length, this.offset);
      this.offset += read;
      const text = this.rest + chunk.subarray(0, read).toString('utf8');
      const lines = text.split('\n');
      this.rest = lines.pop() ?? '';
      for (const line of lines) this.line(line);
    } finally {
      closeSync(fd);
    }
    if (this.offset < size) this.read();
  }

  private line(line: string): void {
    const prefix = PREFIX.exec(line);
    if (prefix) {
      this.at = Date.parse(`${prefix[1]}T${prefix[2]}Z`);
      this.label = MARKER.exec(line)?.[1];
    }
    // A statement of several lines continues without the prefix: it belongs to the last prefixed line's marker.
    if (this.label !== undefined && line.includes(CHECK_STATEMENT)) {
      const times = this.checks.get(this.label) ?? [];
      times.push(this.at);
      this.checks.set(this.label, times);
    }
  }

  /** Checks of `monitor` in [from, to). */
  between(monitor: string, from: number, to: number): number[] {
    return (this.checks.get(monitor) ?? []).filter((t) => t >= from && t < to);
  }
}

export interface CheckFigures {
  /** Slots of the monitors' grids that began and ended within the window. */
  due: number;
  /** Of those, slots with at least one check. */
  done: number;
  /** Checks beyond the first in one slot of one monitor. */
  duplicates: number;
  checks: number;
  /** Pairs of checks of one monitor less than `overlapMs` apart: two replicas at once. */
  concurrent: number;
  /** The longest time any monitor went without a check within the window (edges included), ms. */
  maxGapMs: number;
  /** Monitors unchecked for longer than an interval + 5 s at some point in the window. */
  gapsOverIntervalPlus5s: number;
  /** Where the longest gap was: the monitor and the gap's ends (epoch ms). */
  longestGap?: { monitor: string; fromMs: number; toMs: number };
}

/**
 * Done/due, duplicates (a second check in one slot of the monitor's fixed-rate grid: the schedule runs one per
 * slot, so any second one is a replica checking what another already did) and gaps, over [from, to).
 */
export function checkFigures(
  log: MonitorCheckLog,
  monitors: { namespace: string; name: string }[],
  intervalMs: number,
  from: number,
  to: number,
  overlapMs = 1000,
  // Gaps that ended before this are the previous phase's (a takeover's), not this one's.
  gapsEndingFrom = from,
): CheckFigures {
  const figures: CheckFigures = {
    due: 0,
    done: 0,
    duplicates: 0,
    checks: 0,
    concurrent: 0,
    maxGapMs: 0,
    gapsOverIntervalPlus5s: 0,
  };
  for (const m of monitors) {
    const key = `${m.namespace}/${m.name}`;
    const grid = gridOf(m.namespace, m.name, intervalMs);
    const all = log.checks.get(key) ?? [];
    const inside = all.filter((t) => t >= from && t < to);
    figures.checks += inside.length;
    const perSlot = new Map<number, number>();
    for (const t of inside) perSlot.set(slotOf(grid, t), (perSlot.get(slotOf(grid, t)) ?? 0) + 1);
    for (const n of perSlot.values()) figures.duplicates += n - 1;
    // Whole slots within the window.
    for (let slot = slotOf(grid, from) + 1; (slot + 1) * intervalMs + grid.phaseMs <= to; slot++) {
      figures.due++;
      if (perSlot.has(slot)) figures.done++;
    }
    for (let i = 1; i < inside.length; i++) if (inside[i]! - inside[i - 1]! < overlapMs) figures.concurrent++;
    // The gap before the first check in the window counts from the last one before it.
    const before = all.filter((t) => t < from).at(-1) ?? from;
    let last = before;
    let longest = 0;
    const gap = (fromMs: number, toMs: number) => {
      if (toMs < gapsEndingFrom) return;
      longest = Math.max(longest, toMs - fromMs);
      if (toMs - fromMs > figures.maxGapMs) {
        figures.maxGapMs = toMs - fromMs;
        figures.longestGap = { monitor: key, fromMs, toMs };
      }
    };
    for (const t of inside) {
      gap(last, t);
      last = t;
    }
    gap(last, to);
    if (longest > intervalMs + 5000) figures.gapsOverIntervalPlus5s++;
  }
  return figures;
}
