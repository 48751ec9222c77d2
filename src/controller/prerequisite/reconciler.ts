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
import { formatZodIssues } from '../monitor/reconciler.js';
import { gridOf, slotOf, slotStart } from '../monitor/schedule.js';
import { type RunCheck, runInline } from '../runtime/check-executor.js';
import { connectionFingerprint, EngineClosedDuringCheck } from '../runtime/engine-pool.js';
import type { ReconcileResult } from '../runtime/work-queue.js';
import { decideStatusWrite } from '../status/status-writes.js';
import type { ObjectKey, PrerequisiteObject, ReconcilerDeps } from '../types.js';
import { secretNamesOf } from '../wiring.js';
import { nextPrerequisiteStatus, type PrerequisiteObservation, validateFromMonitor } from './status.js';

/**
 * Observe → nextPrerequisiteStatus → at most one write → its Events. Databases given by monitorRef are
 * judged from that monitor's status in the cache (no second connection); inline ones are checked here on
 * the prerequisite's interval, and between checks their last verdict is read back from the status.
 */
export class PrerequisiteReconciler {
  constructor(
    private readonly deps: ReconcilerDeps,
    /** Database I/O goes through the operator's check executor (limits, lag metrics, worker parking). */
    private readonly runCheck: RunCheck = runInline,
  ) {}

  async reconcile(key: ObjectKey): Promise<ReconcileResult> {
    const { deps } = this;
    const obj = deps.prerequisites.get(key.namespace, key.name);
    if (!obj || (deps.owns && !deps.owns(key))) {
      await this.forget(key);
      return {};
    }
    await deps.recordTransitionEvents('DatabasePrerequisite', obj, obj.status?.transitionEvents);
    const previous = obj.status;
    const generation = obj.metadata?.generation ?? 1;
    const requestedAt = obj.metadata?.annotations?.[Annotation.RequestedAt];
    const runNow = requestedAt !== undefined && requestedAt !== previous?.lastHandledReconcileAt;
    let observation: PrerequisiteObservation;
    try {
      observation = await this.observe(key, obj, runNow);
    } catch (error) {
      // Sharded: forgotten (and maybe re-taken) while a database was checked; look again, report nothing.
      if (error instanceof EngineClosedDuringCheck) return { requeueAfterMs: 0 };
      throw error;
    }
    // Sharded: the object moved to another replica while this pass evaluated it; the new owner writes. What the
    // pass opened (inline databases' engines) is closed again: rebalance's forget may have run before it did.
    if (deps.owns && !deps.owns(key)) {
      await this.forget(key);
      return {};
    }
    const { status, events } = nextPrerequisiteStatus({
      observation,
      previous,
      generation,
      now: deps.now(),
      ...(runNow && requestedAt ? { requestedAt } : {}),
      ...(deps.shard ? { shard: deps.shard } : {}),
    });
    const intervalMs = observation.kind === 'Evaluated' ? parseDuration(observation.spec.interval) : 0;
    const decision = decideStatusWrite(previous, status, intervalMs, deps.now());
    if (decision.write) {
      await deps.writeStatus('DatabasePrerequisite', obj, status);
      deps.metrics.statusWrites.inc({ kind: 'DatabasePrerequisite', why: decision.why });
    }
    for (const event of events) {
      deps.log[event.type === 'Warning' ? 'warn' : 'info'](
        { prerequisite: `${key.namespace}/${key.name}`, reason: event.reason, message: event.message },
        'transition',
      );
    }
    if (decision.write) await deps.recordTransitionEvents('DatabasePrerequisite', obj, status.transitionEvents);
    if (observation.kind === 'InvalidSpec') {
      deps.metrics.forgetPrerequisite(key.namespace, key.name);
      return {};
    }
    deps.metrics.recordPrerequisite(key.namespace, key.name, observation.result.overallStatus);
    const grid = gridOf(key.namespace, key.name, intervalMs);
    return { requeueAfterMs: slotStart(grid, slotOf(grid, deps.now().getTime()) + 1) - deps.now().getTime() };
  }

  /** The prerequisite is gone (or now another replica's): close its inline connections, drop its series. */
  async forget(key: ObjectKey): Promise<void> {
    await this.deps.engines.closeMatching(engineKey(key, ''));
    this.deps.metrics.forgetPrerequisite(key.namespace, key.name);
  }

  private async observe(key: ObjectKey, obj: PrerequisiteObject, runNow: boolean): Promise<PrerequisiteObservation> {
    const { deps } = this;
    const parsed = databasePrerequisiteSpecSchema.safeParse(obj.spec);
    if (!parsed.success) return { kind: 'InvalidSpec', message: formatZodIssues(parsed.error) };
    const spec = parsed.data;
    const at = deps.now();
    const previous = obj.status;
    const options = { checkMigrations: spec.checkMigrations, performanceThresholdMs: spec.performanceThresholdMs };
    const inlineDue = (db: string, connection: string) =>
      runNow ||
      previous?.observedGeneration !== (obj.metadata?.generation ?? 1) ||
      deps.engines.fingerprint(engineKey(key, db)) !== connection ||
      !previous?.lastCheckTime ||
      at.getTime() - Date.parse(previous.lastCheckTime) >= parseDuration(spec.interval);
    // Settled, not Promise.all: a database whose check was interrupted must not leave the others running unseen.
    const settled = await Promise.allSettled(
      spec.databases.map(async (db): Promise<DatabaseValidation> => {
        if (db.monitorRef) {
          const monitor = deps.monitors.get(key.namespace, db.monitorRef.name);
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
        // Resolved first: a changed Secret or connection is checked at once.
        const inlineSpec = inlineMonitorSpec(db);
        const secrets = await deps.secrets(key.namespace, secretNamesOf(inlineSpec.connection));
        const resolved = resolveMonitorConnection(inlineSpec, secrets);
        if (!resolved.ok) {
          await deps.engines.close(engineKey(key, db.name));
          return unavailableDatabase(db.name, resolved.message);
        }
        const last = lastVerdict(previous, db.name);
        if (last && !inlineDue(db.name, connectionFingerprint(resolved.config))) return last;
        return this.checkInline(key, db.name, inlineSpec, resolved, options);
      }),
    );
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const databases = settled.map((r) => (r as PromiseFulfilledResult<DatabaseValidation>).value);
    return { kind: 'Evaluated', spec, result: summarizeValidation(databases), at };
  }

  private async checkInline(
    key: ObjectKey,
    dbName: string,
    spec: DatabaseMonitorSpec,
    resolved: Extract<ResolveResult, { ok: true }>,
    options: { checkMigrations: boolean; performanceThresholdMs: number },
  ): Promise<DatabaseValidation> {
    const engine = this.deps.engines.get(engineKey(key, dbName), resolved.config);
    const { host, port } = resolved.config;
    const report = await this.runCheck(key, `${host}:${port}`, this.deps.now().getTime(), () =>
      runMonitorChecks(engine, spec, resolved, {
        includePerformance: false,
        makeEngine: () => this.deps.engines.fresh(resolved.config, engineKey(key, dbName)),
        now: this.deps.now,
      }),
    );
    const id = engineKey(key, dbName);
    if (!this.deps.engines.holds(id, engine)) throw new EngineClosedDuringCheck(id);
    // PerCheck (the default): no session held until the next check, as for monitors.
    if (spec.connection.sessionPolicy === 'PerCheck') await this.deps.engines.release(id);
    return validateDatabase(dbName, report, options);
  }
}

const engineKey = (key: ObjectKey, db: string) => `prerequisite:${key.namespace}/${key.name}/${db}`;

/** The verdict the status holds for an inline database, as last written. */
const lastVerdict = (previous: DatabasePrerequisiteStatus | undefined, name: string) =>
  previous?.databases?.find((d) => d.name === name);
