import type { Logger } from 'pino';
import type { DatabaseMonitorStatus, DatabasePrerequisiteStatus } from '../api/index.js';
import type { SecretLookup } from '../checks/index.js';
import type { EnginePool } from './engine-pool.js';
import type { EventIntent } from './events.js';
import type { CachedMeta } from './k8s/resource-cache.js';
import type { OperatorMetrics } from './metrics.js';

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

/** What reconcilers need from the world; the operator wires the real ones, unit tests fakes. */
export interface ReconcilerDeps {
  monitors: ObjectStore<MonitorObject>;
  prerequisites: ObjectStore<PrerequisiteObject>;
  /** Reads the named Secrets of a namespace when a reconcile needs them (a GET each; nothing is cached). */
  secrets: (namespace: string, names: string[]) => Promise<SecretLookup>;
  writeStatus(kind: Kind, namespace: string, name: string, status: object): Promise<void>;
  recordEvent(kind: Kind, object: { metadata?: ObjectMeta }, event: EventIntent): Promise<void>;
  engines: EnginePool;
  metrics: OperatorMetrics;
  log: Logger;
  now(): Date;
}
