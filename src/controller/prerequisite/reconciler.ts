import {
  Annotation,
  type DatabaseMonitorSpec,
  type DatabasePrerequisiteStatus,
  type DatabaseValidation,
  databasePrerequisiteSpecSchema,
  parseDuration,
} from '../../api/index.js';
import {
  inlineMonitorSpec,
  type ResolveResult,
  resolveMonitorConnection,
  runMonitorChecks,
  summarizeValidation,
  unavailableDatabase,
  validateDatabase,
} from '../../checks/index.js';
import { withJitter } from '../runtime/backoff.js';
import { type RunCheck, runInline } from '../runtime/check-executor.js';
import { connectionFingerprint } from '../runtime/engine-pool.js';
import { secretNamesOf } from '../event-routing.js';
import { formatZodIssues } from '../monitor/reconciler.js';
import { invalidPrerequisiteStatus, prerequisiteStatus, validateFromMonitor } from './status.js';
import { decideStatusWrite } from '../status/status-writes.js';
import type { ReconcilerDeps } from '../types.js';
import type { ReconcileResult } from '../runtime/work-queue.js';

interface Memory {
  uid?: string;
  written?: DatabasePrerequisiteStatus;
  /** Inline databases are checked on the prerequisite's interval; monitorRef ones come from the cache. */
  inline: Map<string, { at: number; connection: string; validation: DatabaseValidation }>;
}

/**
 * Evaluates on its interval and whenever a referenced monitor changes. Databases given by monitorRef
 * are judged from that monitor's status (no second connection); inline ones are checked here.
 */
export class PrerequisiteReconciler {
  private readonly memory = new Map<string, Memory>();

  constructor(
    private readonly deps: ReconcilerDeps,
    /** Database I/O goes through the operator's check executor (limits, lag metrics, worker parking). */
    private readonly runCheck: RunCheck = runInline,
  ) {}

  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const { deps } = this;
    const key = `${namespace}/${name}`;
    const obj = deps.prerequisites.get(namespace, name);
    if (!obj) {
      this.memory.delete(key);
      await deps.engines.closeMatching(`prerequisite:${key}/`);
      deps.metrics.forgetPrerequisite(namespace, name);
      return {};
    }
    let mem = this.memory.get(key);
    if (!mem || mem.uid !== obj.metadata?.uid) {
      mem = { uid: obj.metadata?.uid, written: obj.status, inline: new Map() };
      this.memory.set(key, mem);
    }
    const generation = obj.metadata?.generation ?? 1;
    const now = deps.now();
    const parsed = databasePrerequisiteSpecSchema.safeParse(obj.spec);
    if (!parsed.success) {
      const { status, events } = invalidPrerequisiteStatus(mem.written, formatZodIssues(parsed.error), generation, now);
      await this.write(mem, namespace, name, status, 0);
      for (const event of events) await deps.recordEvent('DatabasePrerequisite', obj, event);
      deps.metrics.forgetPrerequisite(namespace, name);
      return {};
    }
    const spec = parsed.data;
    const intervalMs = parseDuration(spec.interval);
    const requestedAt = obj.metadata?.annotations?.[Annotation.RequestedAt];
    const runNow = requestedAt !== undefined && requestedAt !== mem.written?.lastHandledReconcileAt;
    if (runNow || mem.written?.observedGeneration !== generation) mem.inline.clear();
    const options = { checkMigrations: spec.checkMigrations, performanceThresholdMs: spec.performanceThresholdMs };

    const databases = await Promise.all(
      spec.databases.map(async (db): Promise<DatabaseValidation> => {
        if (db.monitorRef) {
          const monitor = deps.monitors.get(namespace, db.monitorRef.name);
          return validateFromMonitor(
            db.name,
            db.monitorRef.name,
            monitor && {
              generation: monitor.metadata?.generation ?? 1,
              ...(monitor.status ? { status: monitor.status } : {}),
            },
            options,
          );
        }
        // Resolved before the cache is consulted: a changed Secret or connection is checked at once.
        const inlineSpec = inlineMonitorSpec(db);
        const secrets = await deps.secrets(namespace, secretNamesOf(inlineSpec.connection));
        const resolved = resolveMonitorConnection(inlineSpec, secrets);
        if (!resolved.ok) {
          mem.inline.delete(db.name);
          return unavailableDatabase(db.name, resolved.message);
        }
        const connection = connectionFingerprint(resolved.config);
        const cached = mem.inline.get(db.name);
        if (cached?.connection === connection && now.getTime() - cached.at < intervalMs) return cached.validation;
        const validation = await this.checkInline(key, db.name, inlineSpec, resolved, options);
        mem.inline.set(db.name, { at: now.getTime(), connection, validation });
        return validation;
      }),
    );
    const result = summarizeValidation(databases);
    const { status, events } = prerequisiteStatus(
      mem.written,
      result,
      spec.allowWarnings,
      generation,
      now,
      runNow ? requestedAt : undefined,
    );
    await this.write(mem, namespace, name, status, intervalMs);
    for (const event of events) await deps.recordEvent('DatabasePrerequisite', obj, event);
    deps.metrics.recordPrerequisite(namespace, name, result.overallStatus);
    return { requeueAfterMs: withJitter(intervalMs) };
  }

  private async checkInline(
    key: string,
    dbName: string,
    spec: DatabaseMonitorSpec,
    resolved: Extract<ResolveResult, { ok: true }>,
    options: { checkMigrations: boolean; performanceThresholdMs: number },
  ): Promise<DatabaseValidation> {
    const engine = this.deps.engines.get(`prerequisite:${key}/${dbName}`, resolved.config);
    const { host, port } = resolved.config;
    const report = await this.runCheck(
      `DatabasePrerequisite/${key}`,
      `${host}:${port}`,
      this.deps.now().getTime(),
      () =>
        runMonitorChecks(engine, spec, resolved, {
          includePerformance: false,
          makeEngine: () => this.deps.engines.fresh(resolved.config),
          now: this.deps.now,
        }),
    );
    return validateDatabase(dbName, report, options);
  }

  private async write(
    mem: Memory,
    namespace: string,
    name: string,
    status: DatabasePrerequisiteStatus,
    intervalMs: number,
  ): Promise<void> {
    const decision = decideStatusWrite(mem.written, status, intervalMs, this.deps.now());
    if (!decision.write) return;
    await this.deps.writeStatus('DatabasePrerequisite', namespace, name, status);
    mem.written = status;
    this.deps.metrics.statusWrites.inc({ kind: 'DatabasePrerequisite', why: decision.why });
  }
}
