import type { z } from 'zod';
import {
  Annotation,
  ConditionType,
  type DatabaseMonitorStatus,
  databaseMonitorSpecSchema,
  parseDuration,
  StallReason,
} from '../../api/index.js';
import { resolveMonitorConnection, runMonitorChecks } from '../../checks/index.js';
import { withJitter } from '../runtime/backoff.js';
import { type RunCheck, runInline } from '../runtime/check-executor.js';
import { findCondition } from '../status/conditions.js';
import { connectionFingerprint } from '../runtime/engine-pool.js';
import { secretNamesOf } from '../event-routing.js';
import type { EventIntent } from '../status/events.js';
import { checkedStatus, reconcilingStatus, stalledStatus, suspendedStatus } from './status.js';
import { decideStatusWrite } from '../status/status-writes.js';
import type { MonitorObject, ReconcilerDeps } from '../types.js';
import type { ReconcileResult } from '../runtime/work-queue.js';

interface Memory {
  uid?: string;
  engine?: string;
  lastCheckAt?: number;
  /** When the periodic requeue asked to come back (interval with jitter): the next check's due time. */
  nextCheckAt?: number;
  /** Hash of the resolved connection (spec + Secret) last checked with; never the password itself. */
  connection?: string;
  /** Events of computed statuses not yet written: recorded once that status is written, exactly once. */
  unrecordedEvents?: EventIntent[];
  /** The status as last computed and as last written (writes are skipped when only timings change). */
  current?: DatabaseMonitorStatus;
  written?: DatabaseMonitorStatus;
}

interface Target {
  key: string;
  mem: Memory;
  namespace: string;
  name: string;
  obj: MonitorObject;
}

export const formatZodIssues = (error: z.ZodError) =>
  error.issues.map((i) => `${['spec', ...i.path].join('.')}: ${i.message}`).join('; ');

/** Level-triggered: reads the monitor and its Secret, checks when due, writes status, asks to be requeued. */
export class MonitorReconciler {
  private readonly memory = new Map<string, Memory>();

  constructor(
    private readonly deps: ReconcilerDeps,
    /** Database I/O goes through the operator's check executor (limits, lag metrics, worker parking). */
    private readonly runCheck: RunCheck = runInline,
  ) {}

  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const { deps } = this;
    const key = `${namespace}/${name}`;
    const obj = deps.monitors.get(namespace, name);
    if (!obj) {
      await this.forget(key, namespace, name);
      return {};
    }
    let mem = this.memory.get(key);
    if (!mem || mem.uid !== obj.metadata?.uid) {
      mem = { uid: obj.metadata?.uid, current: obj.status, written: obj.status };
      this.memory.set(key, mem);
    }
    const target: Target = { key, mem, namespace, name, obj };
    const generation = obj.metadata?.generation ?? 1;
    const previous = mem.current;
    const now = deps.now();

    const parsed = databaseMonitorSpecSchema.safeParse(obj.spec);
    if (!parsed.success) {
      return this.stall(
        target,
        stalledStatus(previous, StallReason.InvalidSpec, formatZodIssues(parsed.error), generation, now),
      );
    }
    const spec = parsed.data;
    mem.engine = spec.engine;
    if (spec.suspend) {
      await deps.engines.close(key);
      mem.connection = undefined;
      const suspended = suspendedStatus(previous, generation, now);
      deps.metrics.recordMonitor(namespace, name, spec.engine, suspended);
      await this.write(mem, namespace, name, suspended, Number.POSITIVE_INFINITY);
      return {};
    }

    const intervalMs = parseDuration(spec.interval);
    const requestedAt = obj.metadata?.annotations?.[Annotation.RequestedAt];
    const runNow = requestedAt !== undefined && requestedAt !== previous?.lastHandledReconcileAt;
    const wasStalled = findCondition(previous?.conditions, ConditionType.Stalled)?.status === 'True';
    const newGeneration = previous?.observedGeneration !== generation || previous?.health === undefined;
    const dueAt = (mem.lastCheckAt ?? 0) + intervalMs;

    // Resolved before the due guard: a rotated, changed or deleted Secret acts at once, not an interval later.
    const secrets = await deps.secrets(namespace, secretNamesOf(spec.connection, spec.checks));
    const resolved = resolveMonitorConnection(spec, secrets);
    if (!resolved.ok) {
      await deps.engines.close(key);
      mem.connection = undefined;
      return this.stall(target, stalledStatus(previous, resolved.reason, resolved.message, generation, now));
    }
    const fingerprint = connectionFingerprint(resolved.config);
    const connectionChanged = mem.connection !== undefined && mem.connection !== fingerprint;
    if (!newGeneration && !runNow && !wasStalled && !connectionChanged && now.getTime() < dueAt) {
      // A write that failed earlier is retried here rather than waiting for the next check.
      if (mem.current && mem.current !== mem.written) await this.write(mem, namespace, name, mem.current, intervalMs);
      await this.recordPendingEvents(mem, obj);
      return { requeueAfterMs: dueAt - now.getTime() };
    }
    mem.connection = fingerprint;
    if (newGeneration && previous?.observedGeneration !== generation) {
      const reconciling = reconcilingStatus(previous, generation, now);
      await this.write(mem, namespace, name, reconciling, intervalMs);
    }

    const engine = deps.engines.get(key, resolved.config);
    const perf = spec.checks.performance;
    const perfDue =
      perf !== undefined &&
      (newGeneration ||
        runNow ||
        !previous?.lastPerformanceTime ||
        now.getTime() - Date.parse(previous.lastPerformanceTime) >= parseDuration(perf.interval));
    // Triggered checks are due now; periodic ones when the (jittered) requeue was due.
    const checkDueAt =
      newGeneration || runNow || wasStalled || connectionChanged
        ? now.getTime()
        : Math.max(dueAt, mem.nextCheckAt ?? 0);
    const report = await this.runCheck(
      `DatabaseMonitor/${key}`,
      `${resolved.config.host}:${resolved.config.port}`,
      checkDueAt,
      () =>
        runMonitorChecks(engine, spec, resolved, {
          includePerformance: perfDue,
          makeEngine: () => deps.engines.fresh(resolved.config),
          now: deps.now,
        }),
    );
    deps.metrics.observeCheckDurations(spec.engine, report.durations);

    const checkedAt = deps.now();
    const { status, events } = checkedStatus({
      previous,
      report,
      spec,
      generation,
      now: checkedAt,
      ...(runNow ? { requestedAt } : {}),
    });
    mem.lastCheckAt = checkedAt.getTime();
    deps.metrics.recordMonitor(namespace, name, spec.engine, status);
    await this.writeThenRecord(mem, obj, status, events, intervalMs);
    deps.log.debug({ monitor: key, status: status.status, raw: report.health.status }, 'checked');
    const requeueAfterMs = withJitter(intervalMs);
    mem.nextCheckAt = checkedAt.getTime() + requeueAfterMs;
    return { requeueAfterMs };
  }

  private async stall(
    t: Target,
    next: { status: DatabaseMonitorStatus; events: EventIntent[] },
  ): Promise<ReconcileResult> {
    this.deps.log.info(
      { monitor: t.key, reason: findCondition(next.status.conditions, ConditionType.Stalled)?.reason },
      'stalled',
    );
    if (t.mem.engine) this.deps.metrics.recordMonitor(t.namespace, t.name, t.mem.engine, next.status);
    await this.writeThenRecord(t.mem, t.obj, next.status, next.events, Number.POSITIVE_INFINITY);
    // No requeue: a spec or Secret change brings the monitor back through the watches.
    return {};
  }

  /**
   * Events describe a status that users can read, so they follow its write. A failed write keeps them
   * pending; the retry writes the same status (the due guard) and records them then — once.
   */
  private async writeThenRecord(
    mem: Memory,
    obj: MonitorObject,
    status: DatabaseMonitorStatus,
    events: EventIntent[],
    intervalMs: number,
  ): Promise<void> {
    mem.unrecordedEvents = [...(mem.unrecordedEvents ?? []), ...events];
    await this.write(mem, obj.metadata?.namespace ?? '', obj.metadata?.name ?? '', status, intervalMs);
    await this.recordPendingEvents(mem, obj);
  }

  /** Called only after a write that did not throw (or had nothing to write). */
  private async recordPendingEvents(mem: Memory, obj: MonitorObject): Promise<void> {
    const events = mem.unrecordedEvents ?? [];
    mem.unrecordedEvents = [];
    for (const event of events) await this.deps.recordEvent('DatabaseMonitor', obj, event);
  }

  private async write(
    mem: Memory,
    namespace: string,
    name: string,
    status: DatabaseMonitorStatus,
    intervalMs: number,
  ): Promise<void> {
    mem.current = status;
    const decision = decideStatusWrite(
      mem.written,
      status,
      Number.isFinite(intervalMs) ? intervalMs : 0,
      this.deps.now(),
    );
    if (!decision.write) return;
    await this.deps.writeStatus('DatabaseMonitor', namespace, name, status);
    mem.written = status;
    this.deps.metrics.statusWrites.inc({ kind: 'DatabaseMonitor', why: decision.why });
  }

  /** The monitor is gone: close its pool, drop its series and memory. */
  async forget(key: string, namespace: string, name: string): Promise<void> {
    const mem = this.memory.get(key);
    this.memory.delete(key);
    await this.deps.engines.close(key);
    if (mem?.engine) this.deps.metrics.forgetMonitor(namespace, name, mem.engine);
  }
}
