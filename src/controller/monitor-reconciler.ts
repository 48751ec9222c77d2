import type { z } from 'zod';
import { type DatabaseMonitorStatus, databaseMonitorSpecSchema, parseDuration } from '../api/index.js';
import { resolveMonitorConnection, runMonitorChecks } from '../checks/index.js';
import { withJitter } from './backoff.js';
import { type RunCheck, runInline } from './check-executor.js';
import { findCondition } from './conditions.js';
import type { EventIntent } from './events.js';
import { checkedStatus, reconcilingStatus, stalledStatus, suspendedStatus } from './monitor-status.js';
import { decideStatusWrite } from './status-writes.js';
import { type MonitorObject, REQUESTED_AT, type ReconcilerDeps } from './types.js';
import type { ReconcileResult } from './work-queue.js';

interface Memory {
  uid?: string;
  engine?: string;
  lastCheckAt?: number;
  /** When the periodic requeue asked to come back (interval with jitter): the next check's due time. */
  nextCheckAt?: number;
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
  error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; ');

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
      return this.stall(target, stalledStatus(previous, 'InvalidSpec', formatZodIssues(parsed.error), generation, now));
    }
    const spec = parsed.data;
    mem.engine = spec.engine;
    if (spec.suspend) {
      await deps.engines.close(key);
      await this.write(mem, namespace, name, suspendedStatus(previous, generation, now), Number.POSITIVE_INFINITY);
      return {};
    }

    const intervalMs = parseDuration(spec.interval);
    const requestedAt = obj.metadata?.annotations?.[REQUESTED_AT];
    const runNow = requestedAt !== undefined && requestedAt !== previous?.lastHandledReconcileAt;
    const wasStalled = findCondition(previous?.conditions, 'Stalled')?.status === 'True';
    const newGeneration = previous?.observedGeneration !== generation || previous?.health === undefined;
    const dueAt = (mem.lastCheckAt ?? 0) + intervalMs;
    if (!newGeneration && !runNow && !wasStalled && now.getTime() < dueAt) {
      // A write that failed earlier is retried here rather than waiting for the next check.
      if (mem.current && mem.current !== mem.written) await this.write(mem, namespace, name, mem.current, intervalMs);
      return { requeueAfterMs: dueAt - now.getTime() };
    }

    const resolved = resolveMonitorConnection(spec, deps.secrets(namespace));
    if (!resolved.ok) {
      await deps.engines.close(key);
      return this.stall(target, stalledStatus(previous, resolved.reason, resolved.message, generation, now));
    }
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
    const checkDueAt = newGeneration || runNow || wasStalled ? now.getTime() : Math.max(dueAt, mem.nextCheckAt ?? 0);
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
    await this.write(mem, namespace, name, status, intervalMs);
    for (const event of events) await deps.recordEvent('DatabaseMonitor', obj, event);
    deps.metrics.recordMonitor(namespace, name, spec.engine, status);
    deps.log.debug({ monitor: key, status: status.status, raw: report.health.status }, 'checked');
    const requeueAfterMs = withJitter(intervalMs);
    mem.nextCheckAt = checkedAt.getTime() + requeueAfterMs;
    return { requeueAfterMs };
  }

  private async stall(
    t: Target,
    next: { status: DatabaseMonitorStatus; events: EventIntent[] },
  ): Promise<ReconcileResult> {
    this.deps.log.info({ monitor: t.key, reason: findCondition(next.status.conditions, 'Stalled')?.reason }, 'stalled');
    await this.write(t.mem, t.namespace, t.name, next.status, Number.POSITIVE_INFINITY);
    for (const event of next.events) await this.deps.recordEvent('DatabaseMonitor', t.obj, event);
    // No requeue: a spec or Secret change brings the monitor back through the watches.
    return {};
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
