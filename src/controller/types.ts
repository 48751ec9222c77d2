import type { Logger } from 'pino';
import type { DatabaseMonitorStatus, DatabasePrerequisiteStatus, TransitionEvents } from '../api/index.js';
import type { SecretLookup } from '../checks/index.js';
import type { CachedMeta } from './k8s/resource-cache.js';
import type { EnginePool } from './runtime/engine-pool.js';
import type { OperatorMetrics } from './runtime/metrics.js';

/** The metadata reconcilers read: what the Kubernetes adapter's caches key and compare objects by. */
export type ObjectMeta = CachedMeta;

export interface MonitorObject {
  metadata?: ObjectMeta;
  spec?: unknown;
  status?: DatabaseMonitorStatus;
}

export interface PrerequisiteObject {
  metadata?: ObjectMeta;
  spec?: unknown;
  status?: DatabasePrerequisiteStatus;
}

export interface ObjectStore<T> {
  get(namespace: string, name: string): T | undefined;
  list(namespace?: string): T[];
}

export type Kind = 'DatabaseMonitor' | 'DatabasePrerequisite';

/** What the work queue holds: which object to reconcile. A typed value, never a string to split. */
export interface ObjectKey {
  kind: Kind | 'DatabaseDiscovery';
  namespace: string;
  name: string;
}

export const keyId = (key: ObjectKey) => `${key.kind}\u0000${key.namespace}\u0000${key.name}`;
export const keyOf = (kind: ObjectKey['kind'], o: { metadata?: { namespace?: string; name?: string } }): ObjectKey => ({
  kind,
  namespace: o.metadata?.namespace ?? '',
  name: o.metadata?.name ?? '',
});

/** What reconcilers need from the world; the operator wires the real ones, unit tests fakes. */
export interface ReconcilerDeps {
  monitors: ObjectStore<MonitorObject>;
  prerequisites: ObjectStore<PrerequisiteObject>;
  /** Reads the named Secrets of a namespace when a reconcile needs them (a GET each; nothing is cached). */
  secrets: (namespace: string, names: string[]) => Promise<SecretLookup>;
  /**
   * Replaces the object's status, guarded by the object as read (uid and resourceVersion): a write over a
   * newer or recreated object fails with a conflict and the pass is retried, never applied blindly.
   */
  writeStatus(kind: Kind, object: { metadata?: ObjectMeta }, status: object): Promise<void>;
  /**
   * Records the Events a written status carries (status.transitionEvents), each exactly once: named from the
   * object and the transition, so recording them again — in a later pass, after a restart, on another replica —
   * adds nothing. Called with the status a pass wrote, and with the status as read: its writer may have died, or
   * never heard the answer of a write the API server applied, before recording them.
   */
  recordTransitionEvents(
    kind: Kind,
    object: { metadata?: ObjectMeta },
    transition: TransitionEvents | undefined,
  ): Promise<void>;
  engines: EnginePool;
  metrics: OperatorMetrics;
  /** Sharded: whether this replica owns the object now (it checks and writes only those). Default: all. */
  owns?: (key: ObjectKey) => boolean;
  /** Sharded: this replica's identity, written into the status of the objects it owns (status.shard). */
  shard?: string;
  log: Logger;
  now(): Date;
}
