import { Annotation } from '../api/index.js';
import { keyOf, type MonitorObject, type ObjectKey, type ObjectStore, type PrerequisiteObject } from './types.js';

/*
 * What the operator watches, and which objects each change reconciles — controller-runtime's
 * For/Owns/Watches with their mapping functions and predicates, as one table (WATCHES) that operator.ts
 * turns into cache handlers. Mapping functions are pure: an object and the caches in, keys out.
 */

export interface World {
  monitors: ObjectStore<MonitorObject>;
  prerequisites: ObjectStore<PrerequisiteObject>;
}

export type Change = 'add' | 'update' | 'delete';

interface Referencing {
  metadata?: { name?: string; namespace?: string; generation?: number; annotations?: Record<string, string> };
  spec?: unknown;
  status?: { observedGeneration?: number; lastHandledReconcileAt?: string };
}

interface ReferenceSpec {
  connection?: { secretRef?: { name?: string }; tls?: { caSecretRef?: { name?: string } } };
  checks?: { pgbouncer?: { secretRef?: { name?: string } } };
  databases?: {
    monitorRef?: { name?: string };
    connection?: { secretRef?: { name?: string }; tls?: { caSecretRef?: { name?: string } } };
  }[];
}

const specOf = (o: Referencing) => (o.spec ?? {}) as ReferenceSpec;

export interface Watch<T> {
  /** For: the object's own kind; Watches: other objects that depend on it. */
  relation: 'For' | 'Watches';
  /** Which changes count (controller-runtime's predicates); all when absent. */
  predicate?: (change: Change, obj: T) => boolean;
  map: (obj: T, world: World) => ObjectKey[];
}

/**
 * A spec change, a run request, a new object or a deletion needs a pass; a status-only update (the
 * operator's own write coming back through the watch) does not: it would be a hot loop.
 */
export const specOrRequestChanged = (change: Change, o: Referencing) =>
  change !== 'update' ||
  o.status?.observedGeneration !== o.metadata?.generation ||
  (o.metadata?.annotations?.[Annotation.RequestedAt] !== undefined &&
    o.metadata.annotations[Annotation.RequestedAt] !== o.status?.lastHandledReconcileAt);

/** The Secrets a connection reads: its credentials, for TLS verification its CA, and PgBouncer's console login. */
export const secretNamesOf = (connection: ReferenceSpec['connection'], checks?: ReferenceSpec['checks']): string[] =>
  [connection?.secretRef?.name, connection?.tls?.caSecretRef?.name, checks?.pgbouncer?.secretRef?.name].filter(
    (n): n is string => n !== undefined,
  );

/** Prerequisites of the monitor's namespace that name it: its status feeds their verdict. */
export function prerequisitesReferencing(monitor: { metadata?: Referencing['metadata'] }, world: World): ObjectKey[] {
  const name = monitor.metadata?.name;
  return world.prerequisites
    .list(monitor.metadata?.namespace)
    .filter((p) => specOf(p).databases?.some((d) => d.monitorRef?.name === name))
    .map((p) => keyOf('DatabasePrerequisite', p));
}

/** Monitors and prerequisites of the Secret's namespace that connect with it. */
export function usersOfSecret(secret: { metadata?: Referencing['metadata'] }, world: World): ObjectKey[] {
  const name = secret.metadata?.name;
  const namespace = secret.metadata?.namespace;
  const uses = (names: string[]) => name !== undefined && names.includes(name);
  return [
    ...world.monitors
      .list(namespace)
      .filter((m) => uses(secretNamesOf(specOf(m).connection, specOf(m).checks)))
      .map((m) => keyOf('DatabaseMonitor', m)),
    ...world.prerequisites
      .list(namespace)
      .filter((p) => specOf(p).databases?.some((d) => uses(secretNamesOf(d.connection))))
      .map((p) => keyOf('DatabasePrerequisite', p)),
  ];
}

export const WATCHES: {
  databasemonitors: Watch<MonitorObject>[];
  databaseprerequisites: Watch<PrerequisiteObject>[];
  secrets: Watch<{ metadata?: Referencing['metadata'] }>[];
} = {
  databasemonitors: [
    { relation: 'For', predicate: specOrRequestChanged, map: (m) => [keyOf('DatabaseMonitor', m)] },
    // Every change, status included: a prerequisite judges its databases from their monitors' status.
    { relation: 'Watches', map: prerequisitesReferencing },
  ],
  databaseprerequisites: [
    { relation: 'For', predicate: specOrRequestChanged, map: (p) => [keyOf('DatabasePrerequisite', p)] },
  ],
  // Metadata only: a new resourceVersion is enough to re-read the Secret in the pass.
  secrets: [{ relation: 'Watches', map: usersOfSecret }],
};
