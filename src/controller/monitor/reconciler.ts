import type { z } from 'zod';
import {
  Annotation,
  type DatabaseMonitorSpec,
  type DatabaseMonitorStatus,
  databaseMonitorSpecSchema,
  parseDuration,
} from '../../api/index.js';
import { type MonitorReport, resolveMonitorConnection, runMonitorChecks } from '../../checks/index.js';
import { type RunCheck, runInline } from '../runtime/check-executor.js';
import { connectionFingerprint } from '../runtime/engine-pool.js';
import type { ReconcileResult } from '../runtime/work-queue.js';
import { decideStatusWrite } from '../status/status-writes.js';
import type { MonitorObject, ObjectKey, ReconcilerDeps } from '../types.js';
import { secretNamesOf } from '../wiring.js';
import { afterCheck, freshLoginDue, gridOf, type Plan, planCheck, slotOf, unwrittenChecks } from './schedule.js';
import { type MonitorObservation, nextMonitorStatus } from './status.js';

export const formatZodIssues = (error: z.ZodError) =>
  error.issues.map((i) => `${['spec', ...i.path].join('.')}: ${i.message}`).join('; ');

/** One pass's observation, or the time to come back when no check is due. */
type Pass = { observation: MonitorObservation; requestedAt?: string; nextAtMs?: number } | { waitUntilMs: number };

/**
 * Level-triggered: observe → nextMonitorStatus → at most one write → its Events. Everything the next pass
 * decides from is in the object's spec and status and in the caches; this process keeps only the engines
 * (connections) and, per object, the schedule slot it last checked (an optimization: without it the pass
 * decides the same from the status, see schedule.ts).
 */
export class MonitorReconciler {
  private readonly slots = new Map<
    string,
    {
      uid: string | undefined;
      slot: number | undefined;
      engine: string;
      retry?: boolean;
      takenOver?: boolean;
      handedOver?: boolean;
      joinedAtMs?: number;
    }
  >();

  constructor(
    private readonly deps: ReconcilerDeps,
    /** Database I/O goes through the operator's check executor (limits, lag metrics, worker parking). */
    private readonly runCheck: RunCheck = runInline,
  ) {}

  async reconcile(key: ObjectKey): Promise<ReconcileResult> {
    const obj = this.deps.monitors.get(key.namespace, key.name);
    if (!obj || (this.deps.owns && !this.deps.owns(key))) {
      await this.forget(key);
      return {};
    }
    await this.deps.recordTransitionEvents('DatabaseMonitor', obj, obj.status?.transitionEvents);
    const pass = await this.observe(key, obj);
    // Sharded: the object moved to another replica while this pass checked it; the new owner writes. Its pool and
    // series go again: rebalance's forget may have run while the check re-created them.
    if (this.deps.owns && !this.deps.owns(key)) {
      await this.forget(key);
      return {};
    }
    if ('waitUntilMs' in pass) return { requeueAfterMs: Math.max(0, pass.waitUntilMs - this.deps.now().getTime()) };
    const previous = obj.status;
    const { status, events } = nextMonitorStatus({
      observation: pass.observation,
      previous,
      generation: obj.metadata?.generation ?? 1,
      now: this.deps.now(),
      ...(pass.requestedAt ? { requestedAt: pass.requestedAt } : {}),
      ...(this.deps.shard ? { shard: this.deps.shard } : {}),
    });
    const spec = pass.observation.kind === 'Checked' ? pass.observation.spec : undefined;
    const known = this.slots.get(mapKey(key));
    let written: boolean;
    try {
      written = await this.write(obj, previous, status, spec);
      if (known) known.retry = false;
    } catch (error) {
      // The check ran but nobody can see its result: the retry (queue backoff) checks and writes again.
      if (known) known.retry = true;
      throw error;
    }
    for (const event of events) {
      this.deps.log[event.type === 'Warning' ? 'warn' : 'info'](
        { monitor: `${key.namespace}/${key.name}`, reason: event.reason, message: event.message },
        'transition',
      );
    }
    if (written) await this.deps.recordTransitionEvents('DatabaseMonitor', obj, status.transitionEvents);
    const engine = this.slots.get(mapKey(key))?.engine;
    if (engine) this.deps.metrics.recordMonitor(key.namespace, key.name, engine, status);
    return pass.nextAtMs === undefined
      ? {}
      : { requeueAfterMs: Math.max(0, pass.nextAtMs - this.deps.now().getTime()) };
  }

  private async observe(key: ObjectKey, obj: MonitorObject): Promise<Pass> {
    const { deps } = this;
    const id = mapKey(key);
    const parsed = databaseMonitorSpecSchema.safeParse(obj.spec);
    if (!parsed.success) {
      await deps.engines.close(id);
      return { observation: { kind: 'InvalidSpec', message: formatZodIssues(parsed.error) } };
    }
    const spec = parsed.data;
    this.remember(key, obj, { engine: spec.engine });
    if (spec.suspend) {
      await deps.engines.close(id);
      return { observation: { kind: 'Suspended' } };
    }
    // Resolved before the schedule is consulted: a rotated, changed or deleted Secret acts at once.
    const secrets = await deps.secrets(key.namespace, secretNamesOf(spec.connection, spec.checks));
    const resolved = resolveMonitorConnection(spec, secrets);
    if (!resolved.ok) {
      await deps.engines.close(id);
      return { observation: { kind: 'Unresolved', reason: resolved.reason, message: resolved.message } };
    }
    const previous = obj.status;
    const grid = gridOf(key.namespace, key.name, parseDuration(spec.interval));
    const known = this.slots.get(id);
    const before = deps.engines.fingerprint(id);
    const requestedAt = obj.metadata?.annotations?.[Annotation.RequestedAt];
    const plan = planCheck({
      grid,
      nowMs: deps.now().getTime(),
      previous,
      generation: obj.metadata?.generation ?? 1,
      requestedAt,
      connectionChanged: before !== undefined && before !== connectionFingerprint(resolved.config),
      lastSlot: known && known.uid === obj.metadata?.uid ? known.slot : undefined,
      retry: known?.retry === true && known.uid === obj.metadata?.uid,
      takenOver: known?.takenOver === true,
      handedOver: known?.handedOver === true,
      joinedAtMs: known?.joinedAtMs,
    });
    if (!plan.check) {
      this.remember(key, obj, { slot: plan.slot });
      return { waitUntilMs: plan.nextAtMs };
    }
    // Reuse keeps its session from one check to the next: idle for at most an interval and a check's timeout.
    const engine = deps.engines.get(id, resolved.config, grid.intervalMs + spec.timeoutSeconds * 1000 + 5000);
    let startedMs = plan.dueAtMs;
    const report: MonitorReport = await this.runCheck(
      key,
      `${resolved.config.host}:${resolved.config.port}`,
      plan.dueAtMs,
      () => {
        startedMs = deps.now().getTime();
        return runMonitorChecks(engine, spec, resolved, {
          includePerformance: performanceDue(spec, previous, plan, startedMs),
          freshLogin: freshLoginWanted(spec, previous, plan, grid),
          makeEngine: () => deps.engines.fresh(resolved.config, id),
          now: deps.now,
        });
      },
    );
    // Closed under the check (sharded: the object moved away, maybe back, while it ran): its errors are the
    // closed pool's, not the database's. Nothing is reported; the object is looked at again at once.
    if (!deps.engines.holds(id, engine)) return { waitUntilMs: deps.now().getTime() };
    deps.metrics.observeCheckDurations(spec.engine, report.durations);
    // Per check, the warm session is not kept: nothing holds a server connection between checks.
    if (spec.connection.sessionPolicy === 'PerCheck') await deps.engines.release(id);
    const slot = Math.max(plan.slot, slotOf(grid, startedMs));
    this.remember(key, obj, { slot });
    const next = afterCheck(grid, slot, deps.now().getTime());
    // Slots lost while the check waited for a slot of its host, and slots it overran.
    const skipped = slot - plan.slot + next.skipped;
    if (skipped > 0) deps.metrics.skippedChecks.inc({ kind: 'DatabaseMonitor' }, skipped);
    deps.metrics.lastCheck(key.namespace, key.name, spec.engine, startedMs);
    return {
      observation: {
        kind: 'Checked',
        spec,
        report,
        at: new Date(startedMs),
        unwrittenChecks: plan.trigger === 'Slot' ? unwrittenChecks(grid, previous, slot) : 0,
      },
      ...(plan.trigger === 'RunRequested' && requestedAt ? { requestedAt } : {}),
      nextAtMs: next.nextAtMs,
    };
  }

  /** A write only when something significant changed or the heartbeat is due (status/status-writes.ts). */
  private async write(
    obj: MonitorObject,
    previous: DatabaseMonitorStatus | undefined,
    status: DatabaseMonitorStatus,
    spec: DatabaseMonitorSpec | undefined,
  ): Promise<boolean> {
    const intervalMs = spec ? parseDuration(spec.interval) : 0;
    const decision = decideStatusWrite(previous, status, intervalMs, this.deps.now());
    if (!decision.write) return false;
    await this.deps.writeStatus('DatabaseMonitor', obj, status);
    this.deps.metrics.statusWrites.inc({ kind: 'DatabaseMonitor', why: decision.why });
    return true;
  }

  private remember(key: ObjectKey, obj: MonitorObject, update: { slot?: number; engine?: string }): void {
    const id = mapKey(key);
    const known = this.slots.get(id);
    const same = known?.uid === obj.metadata?.uid;
    this.slots.set(id, {
      uid: obj.metadata?.uid,
      slot: update.slot ?? (same ? known?.slot : undefined),
      engine: update.engine ?? known?.engine ?? 'postgres',
      retry: same && known?.retry === true,
      // A takeover (or handover) lasts until a check has been done or decided (a slot remembered).
      takenOver: known?.takenOver === true && update.slot === undefined,
      handedOver: known?.handedOver === true && update.slot === undefined,
      ...(known?.joinedAtMs !== undefined && update.slot === undefined ? { joinedAtMs: known.joinedAtMs } : {}),
    });
  }

  /**
   * Sharded: moved from a live member. At a join the old owner checked every slot until it dropped the object (now,
   * or earlier if this replica's view changed later than the others'; schedule.ts joinedAtMs); at a clean leave it
   * stopped some time before, so the status decides (handedOver).
   */
  handOver(key: ObjectKey, why: 'Joined' | 'Left', oldOwnerDroppedAtMs?: number): void {
    const id = mapKey(key);
    const known = this.slots.get(id);
    const now = this.deps.now().getTime();
    this.slots.set(id, {
      uid: known?.uid,
      slot: undefined,
      engine: known?.engine ?? 'postgres',
      ...(why === 'Joined' ? { joinedAtMs: Math.min(now, oldOwnerDroppedAtMs ?? now) } : { handedOver: true }),
    });
  }

  /** Sharded: taken over from a member that died: its next pass checks at once (nobody did since). */
  takeOver(key: ObjectKey): void {
    const id = mapKey(key);
    const known = this.slots.get(id);
    this.slots.set(id, {
      uid: known?.uid,
      slot: undefined,
      engine: known?.engine ?? 'postgres',
      takenOver: true,
    });
  }

  /** The monitor is gone (or now another replica's): close its connections, drop its series. */
  async forget(key: ObjectKey): Promise<void> {
    const id = mapKey(key);
    const known = this.slots.get(id);
    this.slots.delete(id);
    await this.deps.engines.close(id);
    if (known) this.deps.metrics.forgetMonitor(key.namespace, key.name, known.engine);
  }
}

const mapKey = (key: ObjectKey) => `${key.namespace}/${key.name}`;

/** Performance runs on its own interval (from the status), and at once on a new generation or a request. */
function performanceDue(
  spec: DatabaseMonitorSpec,
  previous: DatabaseMonitorStatus | undefined,
  plan: Extract<Plan, { check: true }>,
  nowMs: number,
): boolean {
  const perf = spec.checks.performance;
  if (!perf) return false;
  if (['NoResult', 'NewGeneration', 'RunRequested'].includes(plan.trigger) || !previous?.lastPerformanceTime)
    return true;
  return nowMs - Date.parse(previous.lastPerformanceTime) >= parseDuration(perf.interval);
}

/**
 * A fresh login every freshLoginInterval (on the grid, so a fleet's logins are spread), on every check while
 * the last one failed, and on the first check. With sessionPolicy PerCheck every check logs in anyway.
 */
function freshLoginWanted(
  spec: DatabaseMonitorSpec,
  previous: DatabaseMonitorStatus | undefined,
  plan: Extract<Plan, { check: true }>,
  grid: ReturnType<typeof gridOf>,
): boolean {
  if (spec.connection.sessionPolicy === 'PerCheck') return false;
  if (plan.trigger !== 'Slot' || previous?.health?.login?.succeeded === false) return true;
  return freshLoginDue(grid, plan.slot, parseDuration(spec.connection.freshLoginInterval));
}
