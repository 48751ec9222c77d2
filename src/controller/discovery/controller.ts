import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { DiscoveryLabel } from '../../api/index.js';
import { trimCached } from '../cache-trim.js';
import type { KubeClients } from '../k8s/client.js';
import { type CachedObject, ResourceCache } from '../k8s/resource-cache.js';
import { customResourceSource, groupResourceSource, namespaceMetadataSource } from '../k8s/sources.js';
import { writeStatus } from '../k8s/status-writer.js';
import type { ReconcileResult } from '../runtime/work-queue.js';
import { keyId, type ObjectKey, type ObjectStore } from '../types.js';
import { monitorWriter } from './monitor-writer.js';
import type { ExistingMonitor } from './plan.js';
import { projectionFor } from './projections.js';
import { type Availability, type DiscoveryObject, DiscoveryReconciler, type SourceName } from './reconciler.js';
import { resourceName, type SourceKind, SourceKinds } from './source-kinds.js';
import type { SourceObject } from './types.js';

export const DISCOVERY_KIND = 'DatabaseDiscovery' as const;
export const DISCOVERY_SOURCES: readonly SourceName[] = ['cloudnativepg', 'crunchy', 'zalando', 'secrets'];

/** Operator settings: DISCOVERY_SOURCES and DISCOVERY_CLUSTER_NAMESPACES. */
export interface DiscoverySettings {
  sources: SourceName[];
  clusterNamespaces: string[];
}

/** What the operator lends the discovery: its client, caches, queue and metrics. */
export interface DiscoveryHost {
  clients: KubeClients;
  /** Watched namespaces; [undefined] for all. */
  namespaces: (string | undefined)[];
  monitors: ObjectStore<ExistingMonitor>;
  secrets: ObjectStore<SourceObject>;
  enqueue(key: ObjectKey, delayMs: number): void;
  onWatchError(resource: string, error: unknown, retryInMs: number): void;
  registry: Registry;
  log: Logger;
}

/** The source kinds each setting reads with a cache of its own (Secrets come from the operator's metadata watch). */
const CACHED_KINDS: Record<Exclude<SourceName, 'secrets'>, SourceKind[]> = {
  cloudnativepg: [SourceKinds.cnpgCluster, SourceKinds.cnpgPooler],
  crunchy: [SourceKinds.crunchyCluster],
  zalando: [SourceKinds.zalandoPostgresql],
};

const SETTING_NAMES: Record<SourceName, string> = {
  cloudnativepg: 'cloudNativePG',
  crunchy: 'crunchy',
  zalando: 'zalando',
  secrets: 'secrets',
};

/** Coalesces the burst of watch events a change brings (a Cluster's status updates) into one pass. */
const EVENT_DELAY_MS = 200;

interface Watched<T extends CachedObject> {
  cache: ResourceCache<T>;
  synced: boolean;
  lastError?: string;
}

const keyOf = (namespace: string, name: string): ObjectKey => ({ kind: DISCOVERY_KIND, namespace, name });

/**
 * DatabaseDiscovery's wiring (as CloudNativePG's SetupWithManager): its caches, which events re-queue which
 * discoveries, and the reconciler. The operator registers it with a few calls (see operator.ts).
 */
export class DiscoveryController {
  private readonly discoveries: Watched<DiscoveryObject & CachedObject>;
  private readonly namespaceList: Watched<CachedObject & { metadata?: { labels?: Record<string, string> } }>;
  private readonly sourceCaches = new Map<string, Watched<SourceObject & CachedObject>>();
  private readonly reconciler: DiscoveryReconciler;
  private readonly enabled: Set<SourceName>;

  constructor(
    settings: DiscoverySettings,
    private readonly host: DiscoveryHost,
  ) {
    this.enabled = new Set(settings.sources);
    const { clients, namespaces } = host;
    type OnError = (resource: string, error: unknown, retryInMs: number) => void;
    // Remembers a cache's last list/watch error, so a discovery can say why a source cannot be read.
    const watched = <T extends CachedObject>(make: (onWatchError: OnError) => ResourceCache<T>) => {
      const w = { synced: false } as Watched<T>;
      w.cache = make((r, e, ms) => {
        w.lastError = e instanceof Error ? e.message : String(e);
        host.onWatchError(r, e, ms);
      });
      return w;
    };
    this.discoveries = watched(
      (onWatchError) =>
        new ResourceCache<DiscoveryObject & CachedObject>(
          clients.api,
          'databasediscoveries',
          namespaces.map((ns) => customResourceSource('databasediscoveries', ns)),
          {
            add: (d) => this.enqueue(d, 0),
            update: (d) => {
              if (d.status?.observedGeneration !== d.metadata?.generation) this.enqueue(d, 0);
            },
            delete: (d) => this.enqueue(d, 0),
          },
          { onWatchError, transform: trimCached },
        ),
    );
    this.namespaceList = watched(
      (onWatchError) =>
        new ResourceCache(
          clients.api,
          'namespaces',
          [namespaceMetadataSource()],
          {
            add: () => this.enqueueClusterWide(),
            update: () => this.enqueueClusterWide(),
            delete: () => this.enqueueClusterWide(),
          },
          { onWatchError },
        ),
    );
    for (const [setting, kinds] of Object.entries(CACHED_KINDS)) {
      if (!this.enabled.has(setting as SourceName)) continue;
      for (const kind of kinds) {
        const transform = projectionFor(kind);
        const onEvent = (o: SourceObject) => this.enqueueScope(o.metadata?.namespace ?? '');
        this.sourceCaches.set(
          resourceName(kind),
          watched(
            (onWatchError) =>
              new ResourceCache<SourceObject & CachedObject>(
                clients.api,
                resourceName(kind),
                namespaces.map((ns) => groupResourceSource(kind, ns)),
                { add: onEvent, update: onEvent, delete: onEvent },
                { onWatchError, transform },
              ),
          ),
        );
      }
    }
    const writes = new Counter({
      name: 'dbwatch_discovery_monitor_writes_total',
      help: 'DatabaseMonitors created, updated and deleted by DatabaseDiscoveries',
      labelNames: ['verb'],
      registers: [host.registry],
    });
    const watchedNamespaces = new Set(namespaces.filter((n): n is string => n !== undefined));
    this.reconciler = new DiscoveryReconciler({
      discoveries: {
        get: (ns, n) => this.discoveries.cache.get(ns, n),
        list: (ns) => this.discoveries.cache.list(ns),
        synced: () => this.discoveries.synced,
      },
      monitors: host.monitors,
      world: {
        objects: (kind, ns) =>
          kind === SourceKinds.secret
            ? host.secrets.list(ns)
            : (this.sourceCaches.get(resourceName(kind))?.cache.list(ns) ?? []),
        secretExists: (ns, name) => host.secrets.get(ns, name) !== undefined,
      },
      namespaces: () =>
        this.namespaceList.cache
          .list()
          .map((n) => ({ name: n.metadata?.name ?? '', labels: n.metadata?.labels }))
          .filter((n) => watchedNamespaces.size === 0 || watchedNamespaces.has(n.name)),
      namespacesAvailable: () => this.availability(this.namespaceList, 'namespaces'),
      source: (name) => this.sourceAvailability(name),
      clusterNamespaces: new Set(settings.clusterNamespaces),
      writer: monitorWriter(clients),
      writeStatus: async (ns, n, status, read) => {
        // Guarded by the discovery as the pass read it: a newer or recreated object refuses the write, the pass retries.
        const { uid = '', resourceVersion = '' } = read;
        if (!uid) return;
        await writeStatus(
          clients,
          { plural: 'databasediscoveries', namespace: ns, name: n, uid, resourceVersion },
          status,
        );
      },
      onWrite: (verb) => writes.inc({ verb }),
      log: host.log.child({ controller: 'discovery' }),
      now: () => new Date(),
    });
  }

  /** Starts every cache without waiting: a source whose CRD is missing must not hold up the operator. */
  start(): void {
    const run = <T extends CachedObject>(w: Watched<T>) =>
      void w.cache.start().then(() => {
        w.synced = true;
        w.lastError = undefined;
        this.enqueueAll();
      });
    run(this.discoveries);
    run(this.namespaceList);
    for (const w of this.sourceCaches.values()) run(w);
  }

  async stop(): Promise<void> {
    await Promise.all([this.discoveries, this.namespaceList, ...this.sourceCaches.values()].map((w) => w.cache.stop()));
  }

  reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    return this.reconciler.reconcile(namespace, name);
  }

  /** Sharded: the discovery is now another replica's; what this one remembers of its writes is stale. */
  forget(namespace: string, name: string): void {
    this.reconciler.forget(namespace, name);
  }

  /** Every discovery, and every discovery named by a monitor's labels (to clean up after one deleted meanwhile). */
  keys(): ObjectKey[] {
    const keys = new Map<string, ObjectKey>();
    const add = (key: ObjectKey) => keys.set(keyId(key), key);
    for (const d of this.discoveries.cache.list()) add(keyOf(d.metadata?.namespace ?? '', d.metadata?.name ?? ''));
    for (const m of this.host.monitors.list()) {
      const labels = m.metadata?.labels;
      const name = labels?.[DiscoveryLabel.Discovery];
      const namespace = labels?.[DiscoveryLabel.DiscoveryNamespace];
      if (name && namespace) add(keyOf(namespace, name));
    }
    return [...keys.values()];
  }

  /** A DatabaseMonitor event: its owner re-checks an owned one; a freed name may end a clash. */
  onMonitor(
    m: ExistingMonitor & { status?: { observedGeneration?: number }; metadata?: { generation?: number } },
    event: 'add' | 'update' | 'delete',
  ): void {
    const labels = m.metadata?.labels;
    const name = labels?.[DiscoveryLabel.Discovery];
    const namespace = labels?.[DiscoveryLabel.DiscoveryNamespace];
    if (name && namespace) {
      // Status writes (every check) are not news; a spec edited by hand is.
      if (event !== 'update' || m.status?.observedGeneration !== m.metadata?.generation) {
        this.host.enqueue(keyOf(namespace, name), EVENT_DELAY_MS);
      }
    } else if (event === 'delete') this.enqueueScope(m.metadata?.namespace ?? '');
  }

  /** A Secret's metadata changed: discoveries of its namespace may select it or wait for it. */
  onSecret(s: SourceObject): void {
    if (this.enabled.size > 0) this.enqueueScope(s.metadata?.namespace ?? '');
  }

  private enqueue(d: DiscoveryObject, delayMs: number): void {
    this.host.enqueue(keyOf(d.metadata?.namespace ?? '', d.metadata?.name ?? ''), delayMs);
  }

  private enqueueAll(): void {
    for (const key of this.keys()) this.host.enqueue(key, 0);
  }

  /** Discoveries whose scope may include a namespace: its own, and every one with a namespaceSelector. */
  private enqueueScope(namespace: string): void {
    for (const d of this.discoveries.cache.list()) {
      const cluster = (d.spec as { namespaceSelector?: unknown } | undefined)?.namespaceSelector !== undefined;
      if (cluster || d.metadata?.namespace === namespace) this.enqueue(d, EVENT_DELAY_MS);
    }
  }

  private enqueueClusterWide(): void {
    for (const d of this.discoveries.cache.list()) {
      if ((d.spec as { namespaceSelector?: unknown } | undefined)?.namespaceSelector !== undefined) {
        this.enqueue(d, EVENT_DELAY_MS);
      }
    }
  }

  private availability(w: Watched<CachedObject>, what: string): Availability {
    if (w.synced) return { ok: true };
    if (!w.lastError) return { ok: false, stalled: false, pending: true, message: `${what} is being listed` };
    return { ok: false, stalled: false, message: `${what} cannot be listed (${w.lastError})` };
  }

  private sourceAvailability(name: SourceName): Availability {
    if (!this.enabled.has(name)) {
      return {
        ok: false,
        stalled: true,
        message: `source ${SETTING_NAMES[name]} is not enabled in this operator (DISCOVERY_SOURCES; Helm value discovery.sources.${SETTING_NAMES[name]})`,
      };
    }
    if (name === 'secrets') return { ok: true };
    for (const kind of CACHED_KINDS[name]) {
      const a = this.availability(this.sourceCaches.get(resourceName(kind))!, resourceName(kind));
      if (!a.ok) return { ...a, message: `${a.message}; is ${SETTING_NAMES[name]}'s CRD installed?` };
    }
    return { ok: true };
  }
}
