import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { API_GROUP, API_VERSION } from '../api/index.js';
import { decodeSecretData, type EngineFactory } from '../checks/index.js';
import { trimCached } from './cache-trim.js';
import { DISCOVERY_KIND, DiscoveryController, type DiscoverySettings } from './discovery/controller.js';
import { connectKube, makeClients } from './k8s/client.js';
import { EVENT_TTL_MS, EventRecorder } from './k8s/event-recorder.js';
import { LeaderElector } from './k8s/leader-election.js';
import { DEFAULT_API_RATE_LIMIT, type RateLimit } from './k8s/rate-limiter.js';
import { type CachedObject, ResourceCache } from './k8s/resource-cache.js';
import { customResourceSource, SecretReader, secretMetadataSource } from './k8s/sources.js';
import { StatusConflictError, writeStatus } from './k8s/status-writer.js';
import { MonitorReconciler } from './monitor/reconciler.js';
import { type AlertmanagerSettings, type Notifier, startNotifier } from './notify/index.js';
import { PrerequisiteReconciler } from './prerequisite/reconciler.js';
import { CheckExecutor, type CheckLimits, DEFAULT_CHECK_LIMITS, type RunCheck } from './runtime/check-executor.js';
import { EnginePool } from './runtime/engine-pool.js';
import { startHttpServer } from './runtime/http-server.js';
import { OperatorMetrics } from './runtime/metrics.js';
import { WorkQueue } from './runtime/work-queue.js';
import { ShardCoordinator } from './shard/coordinator.js';
import { errorFields, isStartingUp, metricsPortProblem, StartupError, waitForApiServer } from './startup.js';
import {
  type Kind,
  keyId,
  keyOf,
  type MonitorObject,
  type ObjectKey,
  type PrerequisiteObject,
  type ReconcilerDeps,
} from './types.js';
import { type Change, WATCHES, type Watch, type World } from './wiring.js';

export interface OperatorOptions {
  kubeconfig?: string;
  /** Empty: all namespaces. */
  namespaces: string[];
  /** Work-queue workers, and status writes at once (a reconcile waiting on a database or its write parks). */
  maxConcurrentChecks: number;
  /** Database I/O at once, overall and per host:port; default CHECK_CONCURRENCY / CHECKS_PER_HOST or 64 / 4. */
  checkLimits?: Partial<CheckLimits>;
  /** Client-side limit on Kubernetes API requests; default KUBE_API_QPS / KUBE_API_BURST or 50 / 100. */
  apiRateLimit?: Partial<RateLimit>;
  metricsPort: number;
  leaderElection: { enabled: boolean; namespace: string; name: string };
  identity?: string;
  gracePeriodMs: number;
  engineFactory: EngineFactory;
  log: Logger;
  /** Post the monitors' alerts to Alertmanager directly (ALERTMANAGER_URL); off when absent. */
  alertmanager?: AlertmanagerSettings;
  /**
   * Active-active sharding (src/controller/shard): every replica works, each on the objects it owns among the
   * group's live members. Replaces leader election (which must then be off).
   */
  sharding?: { group: string; namespace: string };
  /** Called when leadership is lost: the process must stop working (the default exits). */
  onLostLeadership?: () => void;
  /** How long start-up waits for an API server that is down or starting (default API_STARTUP_WAIT_MS). */
  apiStartupWaitMs?: number;
  /** DatabaseDiscovery: off unless sources are enabled (DISCOVERY_SOURCES). */
  discovery?: DiscoverySettings;
}

export interface RunningOperator {
  metrics: OperatorMetrics;
  port: number;
  stop(): Promise<void>;
}

const PLURAL: Record<Kind, 'databasemonitors' | 'databaseprerequisites'> = {
  DatabaseMonitor: 'databasemonitors',
  DatabasePrerequisite: 'databaseprerequisites',
};

/** `dbwatch operator`: the watches of wiring.ts → one queue of typed keys → the reconcilers, behind leader election. */
export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const { log } = options;
  const metrics = new OperatorMetrics();
  const api = await connectKube({
    kubeconfig: options.kubeconfig,
    throttle: {
      limit: { ...DEFAULT_API_RATE_LIMIT, ...options.apiRateLimit },
      onThrottled: (waitMs) => {
        metrics.apiThrottled.inc();
        metrics.apiThrottleWait.inc(waitMs / 1000);
      },
    },
    onRetry: ({ code }) => metrics.apiRetries.inc({ code }),
  }).catch((error: unknown) => {
    throw new StartupError(
      `cannot load the kubeconfig: ${(error as Error).message}`,
      'set KUBECONFIG to a kubeconfig file (npm run cluster:up prints one), or run in a Pod with a ServiceAccount',
    );
  });
  const clients = makeClients(api);
  const identity = options.identity ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const engines = new EnginePool(options.engineFactory);
  const recorder = new EventRecorder(clients, identity, (error) =>
    log.warn(errorFields(error), 'could not record event'),
  );
  // Nothing is queued before the caches have synced (and, sharded, before the members are known): a pass over a
  // half-listed cache would judge a prerequisite's monitors missing, or work on another replica's objects.
  let leading = false;
  let synced = false;
  const namespaces = options.namespaces.length > 0 ? options.namespaces : [undefined];
  let notifier: Notifier | undefined;

  // Sharded, a replica works on the objects it owns; otherwise the leader works on all of them.
  let shard: ShardCoordinator | undefined;
  const mine = (key: ObjectKey) => !options.sharding || (shard?.owns(key.namespace, key.name) ?? false);
  const enqueue = (key: ObjectKey) => {
    if (leading && mine(key)) queue.add(key);
  };
  const world: World = {
    monitors: { get: (ns, name) => monitors.get(ns, name), list: (ns) => monitors.list(ns) },
    prerequisites: { get: (ns, name) => prerequisites.get(ns, name), list: (ns) => prerequisites.list(ns) },
  };
  /** A cache's handlers from its rows of the WATCHES table; `also` for the other consumers of its events. */
  const handlersFor = <T extends CachedObject>(
    watches: Watch<T>[],
    hooks: { also?: (change: Change, obj: T) => void; sharded?: boolean } = {},
  ) => {
    const route = (change: Change) => (obj: T) => {
      hooks.also?.(change, obj);
      if (hooks.sharded) countOwned(change, obj);
      for (const watch of watches) {
        if (watch.predicate && !watch.predicate(change, obj)) continue;
        for (const key of watch.map(obj, world)) enqueue(key);
      }
    };
    return { add: route('add'), update: route('update'), delete: route('delete') };
  };
  /** dbwatch_shard_objects between rebalances: an object created or deleted here moves the count by one. */
  const countOwned = (change: Change, obj: CachedObject) => {
    if (!options.sharding || change === 'update' || !obj.metadata?.namespace || !obj.metadata.name) return;
    if (!shard?.owns(obj.metadata.namespace, obj.metadata.name)) return;
    metrics.shardObjects.inc(change === 'add' ? 1 : -1);
  };
  const onWatchError = (resource: string, error: unknown, retryInMs: number) => {
    metrics.watchErrors.inc({ resource });
    // A starting API server answers lists with 429 until its watch cache is ready: expected, retried.
    const level = !synced && isStartingUp(error) ? 'debug' : 'warn';
    log[level]({ resource, ...errorFields(error), retryInMs }, 'watch failed; restarting');
  };

  const monitors: ResourceCache<MonitorObject> = new ResourceCache<MonitorObject>(
    clients.api,
    'databasemonitors',
    namespaces.map((ns) => customResourceSource('databasemonitors', ns)),
    handlersFor(WATCHES.databasemonitors, {
      sharded: true,
      also: (change, m) => {
        // The notifier computes alerts from the monitors' status: every change may be one.
        if (change !== 'delete') notifier?.changed();
        else if (leading && mine(keyOf('DatabaseMonitor', m))) notifier?.deleted(m);
        discovery?.onMonitor(m, change);
      },
    }),
    { onWatchError, transform: trimCached },
  );
  const prerequisites: ResourceCache<PrerequisiteObject> = new ResourceCache<PrerequisiteObject>(
    clients.api,
    'databaseprerequisites',
    namespaces.map((ns) => customResourceSource('databaseprerequisites', ns)),
    handlersFor(WATCHES.databaseprerequisites, { sharded: true }),
    { onWatchError, transform: trimCached },
  );
  const secrets = new ResourceCache<CachedObject>(
    clients.api,
    'secrets',
    namespaces.map((ns) => secretMetadataSource(ns)),
    handlersFor(WATCHES.secrets, {
      also: (change, s) => {
        if (change === 'delete') secretReader.forget(s.metadata?.namespace ?? '', s.metadata?.name ?? '');
        discovery?.onSecret(s);
      },
    }),
    // Trimmed too: kubectl apply's last-applied annotation on a Secret holds its whole data.
    { onWatchError, transform: trimCached },
  );
  // --- DatabaseDiscovery (src/controller/discovery): its own caches; it reads the monitor and Secret caches. ---
  const discovery =
    options.discovery && options.discovery.sources.length > 0
      ? new DiscoveryController(options.discovery, {
          clients,
          namespaces,
          monitors,
          secrets,
          enqueue: (key, delayMs) => {
            if (leading && mine(key)) queue.addAfter(key, delayMs);
          },
          onWatchError,
          registry: metrics.registry,
          log,
        })
      : undefined;
  // --- end DatabaseDiscovery ---
  const secretReader = new SecretReader(
    clients,
    (ns, name) => secrets.get(ns, name)?.metadata?.resourceVersion,
    (data) => decodeSecretData(data),
  );

  const statusWrites = new CheckExecutor({
    limits: { concurrency: options.maxConcurrentChecks, perHost: options.maxConcurrentChecks },
  });
  const deps: ReconcilerDeps = {
    monitors,
    prerequisites,
    owns: mine,
    ...(options.sharding ? { shard: identity } : {}),
    secrets: (namespace, names) => secretReader.lookup(namespace, names),
    writeStatus: async (kind, object, status) => {
      const { namespace = '', name = '', uid = '', resourceVersion: basedOn = '' } = object.metadata ?? {};
      const cache: ResourceCache<MonitorObject | PrerequisiteObject> =
        kind === 'DatabaseMonitor' ? monitors : prerequisites;
      // The precondition is the object as this pass read it: a newer or recreated object refuses the write (409).
      const target = { plural: PLURAL[kind], namespace, name, uid, resourceVersion: basedOn } as const;
      if (!uid) throw new StatusConflictError(target, 404, { cause: undefined });
      // The write, its wait under KUBE_API_QPS included, gives the worker back as a check does: otherwise, after a
      // takeover, the writes of finished checks hold every worker and keep the taken-over objects not yet started
      // from their checks (measured: 40 % of a killed replica's 3,383 monitors waited for their next slot). As many
      // writes at once as there are workers, no more: unbounded, 1,700 writes at once timed out against a loaded
      // API server and took the Lease renewals down with them.
      const written = await queue.park(
        keyOf(kind, object),
        statusWrites.run('kube-apiserver', Date.now(), async () => {
          await api.turn();
          // Sharded: sent only if still owned when it leaves (sendIf: a member joined meanwhile, or a freeze let this
          // replica's membership lapse); the fence is made after the turn, so it is the current renew deadline's.
          return writeStatus(clients, target, status, {
            admitted: true,
            ...(shard ? { signal: shard.workSignal(), sendIf: () => shard?.owns(namespace, name) === true } : {}),
          }).catch((error: unknown) => {
            // Refused by sendIf (or cancelled at the deadline): routine at a handover, requeued and logged as a
            // conflict is, and dropped on the next pass (not owned).
            if (shard && !shard.owns(namespace, name)) throw notOwned(target, error);
            throw error;
          });
        }),
      );
      // Until the watch brings the written version, the cache holds it (when it still holds what the write was
      // based on), so the next pass neither conflicts with its own write nor decides from the status before it.
      cache.replaceStored(namespace, name, (stored) =>
        written && stored.metadata?.resourceVersion === basedOn
          ? { ...stored, metadata: { ...stored.metadata, resourceVersion: written }, status: status as never }
          : undefined,
      );
    },
    recordTransitionEvents: async (kind, object, transition) => {
      const at = transition ? new Date(transition.at) : undefined;
      // Older than the API server's Event TTL, its Events were recorded and have expired (or nobody is told in
      // time): recorded now they would show an old change as new.
      if (!transition || !at || !(Date.now() - at.getTime() < EVENT_TTL_MS)) return;
      const involved = {
        apiVersion: `${API_GROUP}/${API_VERSION}`,
        kind,
        name: object.metadata?.name ?? '',
        namespace: object.metadata?.namespace ?? '',
        ...(object.metadata?.uid ? { uid: object.metadata.uid } : {}),
      };
      for (const [i, event] of transition.events.entries()) {
        await recorder.record(involved, event, { id: `${transition.at}#${i}`, at });
      }
    },
    engines,
    metrics,
    log,
    now: () => new Date(),
  };
  const executor = new CheckExecutor({
    limits: { ...DEFAULT_CHECK_LIMITS, ...options.checkLimits },
    onStart: ({ lagMs, waitedMs, hostLimited }) => {
      metrics.scheduleLag.observe({ host_limited: String(hostLimited) }, lagMs / 1000);
      metrics.checkQueueWait.observe(waitedMs / 1000);
    },
    onLoad: (running, waiting) => {
      metrics.checksRunning.set(running);
      metrics.checksWaiting.set(waiting);
    },
  });
  // A reconcile waiting for its check gives its queue worker back (see WorkQueue.park).
  const runCheck: RunCheck = (owner, host, dueAt, work) => queue.park(owner, executor.run(host, dueAt, work));
  const reconcilers = {
    DatabaseMonitor: new MonitorReconciler(deps, runCheck),
    DatabasePrerequisite: new PrerequisiteReconciler(deps, runCheck),
  };
  const queue: WorkQueue<ObjectKey> = new WorkQueue<ObjectKey>({
    concurrency: options.maxConcurrentChecks,
    id: keyId,
    reconcile: async (key) => {
      if (key.kind === DISCOVERY_KIND) {
        if (!discovery) return {};
        // Sharded: another replica's now (its resync must not come back here).
        if (!mine(key)) {
          discovery.forget(key.namespace, key.name);
          return {};
        }
        const result = await discovery.reconcile(key.namespace, key.name);
        metrics.reconciles.inc({ kind: key.kind, result: 'success' });
        return result;
      }
      const result = await reconcilers[key.kind].reconcile(key);
      metrics.reconciles.inc({ kind: key.kind, result: 'success' });
      return result;
    },
    onError: (key, error, retryInMs) => {
      metrics.reconciles.inc({ kind: key.kind, result: 'error' });
      metrics.reconcileErrors.inc({ kind: key.kind });
      // A conflict on the guarded status write is routine (the cache had not seen the latest version yet).
      const conflict = (error as { code?: unknown })?.code === 409;
      log[conflict ? 'debug' : 'warn'](
        { kind: key.kind, namespace: key.namespace, name: key.name, ...errorFields(error), retryInMs },
        'reconcile failed; retrying with backoff',
      );
    },
    onDepth: (depth) => metrics.queueDepth.set(depth),
    onWait: (waitedMs) => metrics.workqueueWait.observe(waitedMs / 1000),
  });

  const server = await startHttpServer({
    port: options.metricsPort,
    registry: metrics.registry,
    ready: () => synced,
    onError: (error) => log.error({ err: error }, 'metrics server error'),
  }).catch((error: unknown) => {
    throw metricsPortProblem(error, options.metricsPort) ?? error;
  });
  const port = (server.address() as { port: number }).port;
  try {
    await waitForApiServer(clients.api, log, options.apiStartupWaitMs);
  } catch (error) {
    clients.api.close();
    await new Promise((ok) => server.close(ok));
    throw error;
  }
  await Promise.all([secrets.start(), monitors.start(), prerequisites.start()]);
  synced = true;
  // Its one input: the monitors this replica owns (all while it leads), as the cache holds them.
  notifier =
    options.alertmanager &&
    startNotifier(options.alertmanager, {
      monitors: () => (leading ? monitors.list().filter((m) => mine(keyOf('DatabaseMonitor', m))) : []),
      metrics: metrics.alertmanager,
      log,
    });
  // Not awaited: a source whose CRD is missing must not keep the operator from being ready.
  discovery?.start();
  log.info({ namespaces: options.namespaces.length > 0 ? options.namespaces : 'all', identity }, 'caches synced');

  /**
   * Members changed: objects this replica now owns are queued (those taken from a member that died are checked at
   * once — nobody checked them since it died; those moved by a join or a clean leave follow the handover rules of
   * monitor/schedule.ts); objects it no longer owns are dropped here (their connections closed, their series
   * removed) before the new owner can have checked them twice.
   */
  const rebalance = (before: readonly string[], after: readonly string[], expired: readonly string[]) => {
    const all: ObjectKey[] = [
      ...monitors.list().map((m) => keyOf('DatabaseMonitor', m)),
      ...prerequisites.list().map((p) => keyOf('DatabasePrerequisite', p)),
      ...(discovery?.keys() ?? []),
    ];
    // A replica's first view that has others in it: it joined them, and they were checking until now.
    const previousOwners = before.length > 0 ? before : after.filter((m) => m !== identity);
    // Soon after a failure the old owners may be behind on what they took over: the status decides instead.
    const settled = shard?.settled() ?? true;
    let owned = 0;
    for (const key of all) {
      const was = ShardCoordinator.ownerUnder(key.namespace, key.name, before) === identity;
      const is = ShardCoordinator.ownerUnder(key.namespace, key.name, after) === identity;
      if (is) owned++;
      if (is && !was) {
        const from = ShardCoordinator.ownerUnder(key.namespace, key.name, previousOwners);
        if (key.kind === 'DatabaseMonitor' && from !== undefined) {
          if (expired.includes(from)) reconcilers.DatabaseMonitor.takeOver(key);
          else if (after.includes(from) && settled)
            reconcilers.DatabaseMonitor.handOver(key, 'Joined', shard?.othersCountUsSinceMs());
          else reconcilers.DatabaseMonitor.handOver(key, 'Left');
        }
        queue.add(key);
      } else if (was && !is) {
        queue.remove(key);
        if (key.kind === 'DatabaseMonitor' || key.kind === 'DatabasePrerequisite')
          void reconcilers[key.kind].forget(key);
        else discovery?.forget(key.namespace, key.name);
      }
    }
    metrics.shardObjects.set(owned);
    if (after.includes(identity)) notifier?.resendAll();
  };

  // Every object once: its pass decides from its status when it is next due (monitor/schedule.ts).
  const enqueueAll = () => {
    for (const m of monitors.list()) enqueue(keyOf('DatabaseMonitor', m));
    for (const p of prerequisites.list()) enqueue(keyOf('DatabasePrerequisite', p));
    notifier?.resendAll();
    for (const key of discovery?.keys() ?? []) enqueue(key);
  };
  let elector: LeaderElector | undefined;
  if (options.sharding) {
    // Every replica works; membership changes move objects between them (docs/operator.md, "Sharding").
    let members: readonly string[] = [];
    shard = new ShardCoordinator({
      clients,
      namespace: options.sharding.namespace,
      group: options.sharding.group,
      identity,
      log,
      onWatchError,
      onChange: (next, expired) => {
        const before = members;
        members = next;
        metrics.shardMembers.set(next.length);
        // "Working": a member of the group (dbwatch_leader 0 on every replica fires DbwatchOperatorNotLeading).
        metrics.leader.set(next.includes(identity) ? 1 : 0);
        rebalance(before, next, expired);
      },
    });
    metrics.leader.set(0);
    leading = true;
    await shard.start();
  } else if (options.leaderElection.enabled) {
    elector = new LeaderElector(
      clients,
      {
        ...options.leaderElection,
        identity,
        onStartedLeading: () => {
          leading = true;
          metrics.leader.set(1);
          enqueueAll();
        },
        onStoppedLeading: () => {
          leading = false;
          metrics.leader.set(0);
          (options.onLostLeadership ?? (() => process.exit(1)))();
        },
      },
      log,
    );
    elector.start();
  } else {
    leading = true;
    metrics.leader.set(1);
    enqueueAll();
  }

  return {
    metrics,
    port,
    async stop() {
      log.info('stopping: no new work, waiting for in-flight checks');
      leading = false;
      const drained = await queue.shutdown(options.gracePeriodMs);
      if (!drained) log.warn({ gracePeriodMs: options.gracePeriodMs }, 'in-flight checks did not finish in time');
      await notifier?.stop();
      await engines.closeAll();
      await elector?.stop();
      // After the work stopped: deleting the member Lease hands this replica's objects over at once.
      await shard?.stop();
      await Promise.all([monitors.stop(), prerequisites.stop(), secrets.stop(), discovery?.stop()]);
      clients.api.close();
      await new Promise((ok) => server.close(ok));
      server.closeAllConnections();
      log.info('stopped');
    },
  };
}

/** A status not written because the object is another member's now (or this one's membership lapsed). */
function notOwned(target: ConstructorParameters<typeof StatusConflictError>[0], cause?: unknown): StatusConflictError {
  return new StatusConflictError(target, 409, { cause, why: 'is not owned by this shard member any more' });
}
