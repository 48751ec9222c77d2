import type { Logger } from 'pino';
import {
  type DatabaseDiscoverySpec,
  type DatabaseDiscoveryStatus,
  DiscoveryLabel,
  type DiscoveryProblem,
  DiscoveryReason,
  databaseDiscoverySpecSchema,
} from '../../api/index.js';
import { statusCodeOf } from '../k8s/client.js';
import type { ReconcileResult } from '../runtime/work-queue.js';
import type { ObjectStore } from '../types.js';
import {
  type DesiredMonitor,
  type DiscoveryRef,
  desiredMonitors,
  isOwnedBy,
  labelValue,
  sourceKindsOf,
} from './desired.js';
import { matchesSelector } from './label-selector.js';
import type { MonitorWriter } from './monitor-writer.js';
import { canonical, type ExistingMonitor, planMonitors } from './plan.js';
import { keyOf, RecentWrites } from './recent-writes.js';
import { qualifiedKind, SourceKinds } from './source-kinds.js';
import { type DiscoveryOutcome, discoveryStatus } from './status.js';
import type { DiscoveryWorld } from './types.js';

export type SourceName = 'cloudnativepg' | 'crunchy' | 'zalando' | 'secrets';

/** The Kind.group labels of the monitors each source creates. */
const KINDS_OF: Record<SourceName, string[]> = {
  cloudnativepg: [qualifiedKind(SourceKinds.cnpgCluster), qualifiedKind(SourceKinds.cnpgPooler)],
  crunchy: [qualifiedKind(SourceKinds.crunchyCluster)],
  zalando: [qualifiedKind(SourceKinds.zalandoPostgresql)],
  secrets: [qualifiedKind(SourceKinds.secret)],
};

export interface DiscoveryObject {
  metadata?: { name?: string; namespace?: string; uid?: string; generation?: number };
  spec?: unknown;
  status?: DatabaseDiscoveryStatus;
}

/** Whether a source (or the namespace list) can be read now: enabled in the operator and its cache synced. */
export type Availability =
  | { ok: true }
  /** `pending`: still listing for the first time, no error yet (the first seconds after start). */
  | { ok: false; stalled: boolean; message: string; pending?: boolean };

export interface DiscoveryDeps {
  discoveries: ObjectStore<DiscoveryObject> & { synced(): boolean };
  monitors: ObjectStore<ExistingMonitor>;
  world: DiscoveryWorld;
  /** Namespaces the operator watches, with their labels. */
  namespaces(): { name: string; labels?: Record<string, string> }[];
  namespacesAvailable(): Availability;
  source(name: SourceName): Availability;
  /** Namespaces whose discoveries may use namespaceSelector. */
  clusterNamespaces: ReadonlySet<string>;
  writer: MonitorWriter;
  /** Guarded by the object as the pass read it (uid, resourceVersion): a newer or recreated one refuses it. */
  writeStatus(
    namespace: string,
    name: string,
    status: DatabaseDiscoveryStatus,
    read: { uid?: string; resourceVersion?: string },
  ): Promise<void>;
  onWrite(verb: 'create' | 'update' | 'delete'): void;
  log: Logger;
  now(): Date;
}

/** A full pass over every discovery now and then, although watches trigger the real work. */
export const RESYNC_MS = 10 * 60_000;
/** Come back soon after a conflict (the cache was behind): the next pass sees the newer object. */
const CONFLICT_RETRY_MS = 1000;
/** Writes in flight at once (the API client's rate limit still applies to each). */
const WRITE_CONCURRENCY = 8;

const formatIssues = (issues: { path: PropertyKey[]; message: string }[]) =>
  issues.map((i) => `${['spec', ...i.path.map(String)].join('.')}: ${i.message}`).join('; ');

/** Level-triggered: reads the discovery and the sources, writes the monitors that differ, then its status. */
export class DiscoveryReconciler {
  private readonly recent = new RecentWrites();
  private readonly written = new Map<string, string>();

  constructor(private readonly deps: DiscoveryDeps) {}

  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const { deps } = this;
    // An unsynced cache would make every monitor look orphaned.
    if (!deps.discoveries.synced()) return { requeueAfterMs: CONFLICT_RETRY_MS };
    const obj = deps.discoveries.get(namespace, name);
    if (!obj) {
      // A key taken from monitor labels holds a long name cut and hashed: the discovery may live under its full name.
      const alive = deps.discoveries.list(namespace).some((d) => labelValue(d.metadata?.name ?? '') === name);
      return alive ? {} : this.removeOrphans({ namespace, name, uid: '' });
    }
    const owner: DiscoveryRef = { namespace, name, uid: obj.metadata?.uid ?? '' };
    const generation = obj.metadata?.generation ?? 1;
    const parsed = databaseDiscoverySpecSchema.safeParse(obj.spec);
    if (!parsed.success) {
      // Monitors already created are kept: a typo in the spec must not delete a fleet's monitors.
      const message = formatIssues(parsed.error.issues);
      return this.finish(obj, owner, generation, stalledOutcome(DiscoveryReason.InvalidSpec, message), RESYNC_MS);
    }
    const spec = parsed.data;
    if (spec.namespaceSelector && !deps.clusterNamespaces.has(namespace)) {
      const message = `namespaceSelector is allowed only for discoveries in ${[...deps.clusterNamespaces].join(', ') || '(no namespace)'} (DISCOVERY_CLUSTER_NAMESPACES); this one discovers nothing until it is removed`;
      return this.finish(
        obj,
        owner,
        generation,
        stalledOutcome(DiscoveryReason.NamespaceSelectorNotAllowed, message),
        RESYNC_MS,
      );
    }
    return this.discover(obj, owner, generation, spec);
  }

  private async discover(
    obj: DiscoveryObject,
    owner: DiscoveryRef,
    generation: number,
    spec: DatabaseDiscoverySpec,
  ): Promise<ReconcileResult> {
    const { deps } = this;
    const unavailable: string[] = [];
    const stalled: string[] = [];
    const blind = new Set<string>();
    // Right after start a cache may still be listing: wait for it rather than report it unavailable.
    const needed = [
      ...spec.sources.flatMap((source) => sourceKindsOf(source).map((kind) => deps.source(kind))),
      ...(spec.namespaceSelector ? [deps.namespacesAvailable()] : []),
    ];
    if (needed.some((a) => !a.ok && a.pending)) return { requeueAfterMs: CONFLICT_RETRY_MS };
    const usable = spec.sources.filter((source) =>
      sourceKindsOf(source).every((kind) => {
        const a = deps.source(kind);
        if (a.ok) return true;
        (a.stalled ? stalled : unavailable).push(a.message);
        for (const k of KINDS_OF[kind]) blind.add(k);
        return false;
      }),
    );
    let namespaces = [owner.namespace];
    if (spec.namespaceSelector) {
      const a = deps.namespacesAvailable();
      if (!a.ok) {
        // Without the namespace list nothing can be scoped: keep every monitor, report why.
        unavailable.push(a.message);
        for (const kinds of Object.values(KINDS_OF)) for (const k of kinds) blind.add(k);
        namespaces = [];
      } else {
        namespaces = deps
          .namespaces()
          .filter((ns) => matchesSelector(ns.labels, spec.namespaceSelector))
          .map((ns) => ns.name);
      }
    }
    const desired = desiredMonitors(owner, { ...spec, sources: usable }, namespaces, deps.world);
    const plan = planMonitors({
      owner,
      desired: desired.monitors,
      lookup: (ns, n) => this.recent.view(`${ns}/${n}`, deps.monitors.get(ns, n)),
      owned: this.owned(owner),
      keep: (m) => blind.has(m.metadata?.labels?.[DiscoveryLabel.SourceKind] ?? ''),
    });
    const writes = await this.execute(plan);
    const outcome: DiscoveryOutcome = {
      discovered: desired.monitors.length + desired.problems.length,
      created: plan.unchanged + writes.created,
      waiting: plan.waiting,
      failed: desired.problems.length + plan.clashes + writes.failed.length,
      problems: [...desired.problems, ...plan.problems, ...writes.failed],
      unavailable,
      ...(stalled.length > 0
        ? { stalled: { reason: DiscoveryReason.SourceNotEnabled, message: stalled.join('; ') } }
        : {}),
    };
    return this.finish(obj, owner, generation, outcome, writes.conflicts > 0 ? CONFLICT_RETRY_MS : RESYNC_MS);
  }

  /** Every monitor labelled as this discovery's, in any namespace, with writes the cache has not shown yet. */
  private owned(owner: DiscoveryRef): ExistingMonitor[] {
    const cached = this.deps.monitors.list().filter((m) => isOwnedBy(m.metadata?.labels, owner));
    const inCache = new Set(cached.map(keyOf));
    const viewed = cached
      .map((m) => this.recent.view(keyOf(m), m))
      .filter((m): m is ExistingMonitor => m !== undefined);
    const pending = this.recent.pending((key) => inCache.has(key)).filter((m) => isOwnedBy(m.metadata?.labels, owner));
    return [...viewed, ...pending];
  }

  private async execute(plan: ReturnType<typeof planMonitors>) {
    const { deps } = this;
    const result = { created: 0, conflicts: 0, failed: [] as DiscoveryProblem[] };
    const fail = (d: DesiredMonitor, error: unknown) => {
      const code = statusCodeOf(error);
      // 409: the cache was behind (a namesake appeared, or the monitor changed); the next pass decides again.
      if (code === 409 || code === 404) {
        result.conflicts++;
        return;
      }
      result.failed.push({
        source: `${d.source.kind.kind}/${d.source.namespace}/${d.source.name}`,
        monitor: d.name,
        reason: DiscoveryReason.WriteFailed,
        message: error instanceof Error ? error.message : String(error),
      });
    };
    const jobs: (() => Promise<void>)[] = [
      ...plan.create.map((d) => async () => {
        try {
          this.recent.wrote(await deps.writer.create(d));
          deps.onWrite('create');
          result.created++;
        } catch (error) {
          fail(d, error);
        }
      }),
      ...plan.update.map(({ desired: d, existing }) => async () => {
        try {
          this.recent.wrote(await deps.writer.update(existing, d));
          deps.onWrite('update');
          result.created++;
        } catch (error) {
          this.recent.forget(existing);
          fail(d, error);
        }
      }),
      ...plan.remove.map((m) => async () => {
        try {
          await deps.writer.remove(m);
          deps.onWrite('delete');
          this.recent.deleted(m);
        } catch (error) {
          const code = statusCodeOf(error);
          if (code === 404) this.recent.deleted(m);
          else if (code === 409) result.conflicts++;
          else throw error;
        }
      }),
    ];
    await runLimited(jobs, WRITE_CONCURRENCY);
    if (plan.create.length + plan.update.length + plan.remove.length > 0) {
      deps.log.info(
        {
          created: plan.create.length,
          updated: plan.update.length,
          deleted: plan.remove.length,
          failed: result.failed.length,
        },
        'discovery wrote monitors',
      );
    }
    return result;
  }

  /** Sharded: another replica owns it now; its last write here may be outdated when it comes back. */
  forget(namespace: string, name: string): void {
    this.written.delete(`${namespace}/${name}`);
  }

  /** The discovery is gone: delete the monitors labelled as its own (ownerReferences cannot cross namespaces). */
  private async removeOrphans(owner: DiscoveryRef): Promise<ReconcileResult> {
    this.written.delete(`${owner.namespace}/${owner.name}`);
    const plan = {
      create: [],
      update: [],
      remove: this.owned(owner),
      unchanged: 0,
      problems: [],
      waiting: 0,
      clashes: 0,
    };
    const { conflicts } = await this.execute(plan);
    return conflicts > 0 ? { requeueAfterMs: CONFLICT_RETRY_MS } : {};
  }

  private async finish(
    obj: DiscoveryObject,
    owner: DiscoveryRef,
    generation: number,
    outcome: DiscoveryOutcome,
    requeueAfterMs: number,
  ): Promise<ReconcileResult> {
    const key = `${owner.namespace}/${owner.name}`;
    const status = discoveryStatus(obj.status, outcome, generation, this.deps.now());
    const text = canonical(status);
    // Written when it says something new: a resync that found nothing changed writes nothing at all.
    if (text !== (this.written.get(key) ?? canonical(obj.status ?? null))) {
      await this.deps.writeStatus(owner.namespace, owner.name, status, obj.metadata ?? {});
      this.written.set(key, text);
    }
    return { requeueAfterMs };
  }
}

const stalledOutcome = (reason: string, message: string): DiscoveryOutcome => ({
  discovered: 0,
  created: 0,
  waiting: 0,
  failed: 0,
  problems: [],
  unavailable: [],
  stalled: { reason, message },
  counted: false,
});

async function runLimited(jobs: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await jobs[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
}
