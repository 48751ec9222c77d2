import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { API_GROUP, API_VERSION } from '../api/index.js';
import { decodeSecretData, type EngineFactory } from '../checks/index.js';
import { trimCached } from './cache-trim.js';
import { CheckExecutor, type CheckLimits, DEFAULT_CHECK_LIMITS, type RunCheck } from './check-executor.js';
import { EnginePool } from './engine-pool.js';
import { keyOf, keysReferencingMonitor, keysUsingSecret, needsReconcile } from './event-routing.js';
import { startHttpServer } from './http-server.js';
import { connectKube, makeClients } from './k8s/client.js';
import { EventRecorder } from './k8s/event-recorder.js';
import { LeaderElector } from './k8s/leader-election.js';
import { DEFAULT_API_RATE_LIMIT, type RateLimit } from './k8s/rate-limiter.js';
import { ResourceCache } from './k8s/resource-cache.js';
import { customResourceSource, SecretReader, secretMetadataSource } from './k8s/sources.js';
import { StatusConflictError, writeStatus } from './k8s/status-writer.js';
import { OperatorMetrics } from './metrics.js';
import { MonitorReconciler } from './monitor-reconciler.js';
import { PrerequisiteReconciler } from './prerequisite-reconciler.js';
import { StatusEcho } from './status-echo.js';
import type { Kind, MonitorObject, PrerequisiteObject, ReconcilerDeps } from './types.js';
import { WorkQueue } from './work-queue.js';

export interface OperatorOptions {
  kubeconfig?: string;
  /** Empty: all namespaces. */
  namespaces: string[];
  /** Work-queue workers: reconciles computing and writing at once (checks waiting on a database park theirs). */
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
  /** Called when leadership is lost: the process must stop working (the default exits). */
  onLostLeadership?: () => void;
}

export interface RunningOperator {
  metrics: OperatorMetrics;
  port: number;
  stop(): Promise<void>;
}

/** Secrets are cached as metadata only (see secretMetadataSource). */
interface SecretObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

/** `dbwatch operator`: watches → queue → reconcilers, behind leader election, with metrics and probes. */
export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const { log } = options;
  const metrics = new OperatorMetrics();
  const clients = makeClients(
    await connectKube({
      kubeconfig: options.kubeconfig,
      throttle: {
        limit: { ...DEFAULT_API_RATE_LIMIT, ...options.apiRateLimit },
        onThrottled: (waitMs) => {
          metrics.apiThrottled.inc();
          metrics.apiThrottleWait.inc(waitMs / 1000);
        },
      },
      onRetry: ({ code }) => metrics.apiRetries.inc({ code }),
    }),
  );
  const identity = options.identity ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const engines = new EnginePool(options.engineFactory);
  const recorder = new EventRecorder(clients, identity, (error) => log.warn({ err: error }, 'could not record event'));
  let leading = !options.leaderElection.enabled;
  let synced = false;
  const namespaces = options.namespaces.length > 0 ? options.namespaces : [undefined];

  const enqueue = (key: string) => {
    if (leading) queue.add(key);
  };
  const secretChanged = (s: SecretObject) => {
    const ns = s.metadata?.namespace;
    for (const key of keysUsingSecret(s.metadata?.name, monitors.list(ns), prerequisites.list(ns))) enqueue(key);
  };
  const monitorChanged = (m: MonitorObject) => {
    for (const key of keysReferencingMonitor(m.metadata?.name, prerequisites.list(m.metadata?.namespace))) enqueue(key);
  };
  const onWatchError = (resource: string, error: unknown, retryInMs: number) => {
    metrics.watchErrors.inc({ resource });
    log.warn({ resource, err: error, retryInMs }, 'watch failed; restarting');
  };

  const echo = new StatusEcho();
  /** What the caches hold (their transform): trimmed, and sharing the status object the operator wrote when it is that version. */
  const cached =
    <T extends MonitorObject | PrerequisiteObject>(kind: Kind) =>
    (obj: T) =>
      echo.share(keyOf(kind, obj), trimCached(obj));

  const monitors = new ResourceCache<MonitorObject>(
    clients.api,
    'databasemonitors',
    namespaces.map((ns) => customResourceSource('databasemonitors', ns)),
    {
      add: (m) => enqueue(keyOf('DatabaseMonitor', m)),
      update: (m) => {
        if (needsReconcile(m)) enqueue(keyOf('DatabaseMonitor', m));
        monitorChanged(m);
      },
      delete: (m) => {
        echo.forget(keyOf('DatabaseMonitor', m));
        enqueue(keyOf('DatabaseMonitor', m));
        monitorChanged(m);
      },
    },
    { onWatchError, transform: cached('DatabaseMonitor') },
  );
  const prerequisites = new ResourceCache<PrerequisiteObject>(
    clients.api,
    'databaseprerequisites',
    namespaces.map((ns) => customResourceSource('databaseprerequisites', ns)),
    {
      add: (p) => enqueue(keyOf('DatabasePrerequisite', p)),
      update: (p) => {
        if (needsReconcile(p)) enqueue(keyOf('DatabasePrerequisite', p));
      },
      delete: (p) => {
        echo.forget(keyOf('DatabasePrerequisite', p));
        enqueue(keyOf('DatabasePrerequisite', p));
      },
    },
    { onWatchError, transform: cached('DatabasePrerequisite') },
  );
  const secrets = new ResourceCache<SecretObject>(
    clients.api,
    'secrets',
    namespaces.map((ns) => secretMetadataSource(ns)),
    {
      add: secretChanged,
      update: secretChanged,
      delete: (s) => {
        secretReader.forget(s.metadata?.namespace ?? '', s.metadata?.name ?? '');
        secretChanged(s);
      },
    },
    // Trimmed too: kubectl apply's last-applied annotation on a Secret holds its whole data.
    { onWatchError, transform: trimCached },
  );
  const secretReader = new SecretReader(
    clients,
    (ns, name) => secrets.get(ns, name)?.metadata?.resourceVersion,
    (data) => decodeSecretData(data),
  );

  const deps: ReconcilerDeps = {
    monitors,
    prerequisites,
    secrets: (namespace, names) => secretReader.lookup(namespace, names),
    writeStatus: async (kind, namespace, name, status) => {
      const plural = kind === 'DatabaseMonitor' ? 'databasemonitors' : 'databaseprerequisites';
      const cache: ResourceCache<MonitorObject | PrerequisiteObject> =
        kind === 'DatabaseMonitor' ? monitors : prerequisites;
      // The precondition: the object as cached now, which the reconcile read (or our own last write, adopted below).
      const { uid = '', resourceVersion: basedOn = '' } = cache.get(namespace, name)?.metadata ?? {};
      const target = { plural, namespace, name, uid, resourceVersion: basedOn } as const;
      if (!uid) throw new StatusConflictError(target, 404, { cause: undefined });
      const key = `${kind}/${namespace}/${name}`;
      echo.written(key, await writeStatus(clients, target, status), status);
      cache.replaceStored(namespace, name, (stored) => echo.adopt(key, stored, basedOn));
    },
    recordEvent: (kind, object, event) =>
      recorder.record(
        {
          apiVersion: `${API_GROUP}/${API_VERSION}`,
          kind,
          name: object.metadata?.name ?? '',
          namespace: object.metadata?.namespace ?? '',
          ...(object.metadata?.uid ? { uid: object.metadata.uid } : {}),
        },
        event,
      ),
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
  const monitorReconciler = new MonitorReconciler(deps, runCheck);
  const prerequisiteReconciler = new PrerequisiteReconciler(deps, runCheck);
  const queue: WorkQueue = new WorkQueue({
    concurrency: options.maxConcurrentChecks,
    reconcile: async (key) => {
      const [kind, namespace, name] = key.split('/') as [Kind, string, string];
      const reconciler = kind === 'DatabaseMonitor' ? monitorReconciler : prerequisiteReconciler;
      const result = await reconciler.reconcile(namespace, name);
      metrics.reconciles.inc({ kind, result: 'success' });
      return result;
    },
    onError: (key, error, retryInMs) => {
      const kind = key.split('/')[0]!;
      metrics.reconciles.inc({ kind, result: 'error' });
      metrics.reconcileErrors.inc({ kind });
      log.warn({ key, err: error, retryInMs }, 'reconcile failed; retrying with backoff');
    },
    onDepth: (depth) => metrics.queueDepth.set(depth),
    onWait: (waitedMs) => metrics.workqueueWait.observe(waitedMs / 1000),
  });

  const server = await startHttpServer({
    port: options.metricsPort,
    registry: metrics.registry,
    ready: () => synced,
    onError: (error) => log.error({ err: error }, 'metrics server error'),
  });
  const port = (server.address() as { port: number }).port;
  await Promise.all([secrets.start(), monitors.start(), prerequisites.start()]);
  synced = true;
  log.info({ namespaces: options.namespaces.length > 0 ? options.namespaces : 'all', identity }, 'caches synced');

  const enqueueAll = () => {
    for (const m of monitors.list()) enqueue(keyOf('DatabaseMonitor', m));
    for (const p of prerequisites.list()) enqueue(keyOf('DatabasePrerequisite', p));
  };
  let elector: LeaderElector | undefined;
  if (options.leaderElection.enabled) {
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
      await engines.closeAll();
      await elector?.stop();
      await Promise.all([monitors.stop(), prerequisites.stop(), secrets.stop()]);
      clients.api.close();
      await new Promise((ok) => server.close(ok));
      server.closeAllConnections();
      log.info('stopped');
    },
  };
}
