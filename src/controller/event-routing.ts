import { Annotation } from '../api/index.js';
import type { Kind, MonitorObject, PrerequisiteObject } from './types.js';

/** The fields of a resource that say which other objects it depends on. */
interface References {
  metadata?: { name?: string; namespace?: string };
  spec?: unknown;
}

interface ReferenceSpec {
  connection?: { secretRef?: { name?: string }; tls?: { caSecretRef?: { name?: string } } };
  checks?: { pgbouncer?: { secretRef?: { name?: string } } };
  databases?: { monitorRef?: { name?: string }; connection?: { secretRef?: { name?: string } } }[];
}

const specOf = (o: References) => (o.spec ?? {}) as ReferenceSpec;

export const keyOf = (kind: Kind, o: References) => `${kind}/${o.metadata?.namespace}/${o.metadata?.name}`;

/** A spec change or a run request needs a check; a status-only update (our own write) does not. */
export const needsReconcile = (o: MonitorObject | PrerequisiteObject) =>
  o.status?.observedGeneration !== o.metadata?.generation ||
  (o.metadata?.annotations?.[Annotation.RequestedAt] !== undefined &&
    o.metadata.annotations[Annotation.RequestedAt] !== o.status?.lastHandledReconcileAt);

/** Objects to re-check when a Secret in their namespace changes: those that connect with it. */
export function keysUsingSecret(
  secretName: string | undefined,
  monitors: References[],
  prerequisites: References[],
): string[] {
  const usesSecret = (c: ReferenceSpec['connection']) =>
    c?.secretRef?.name === secretName || c?.tls?.caSecretRef?.name === secretName;
  return [
    ...monitors
      .filter((m) => usesSecret(specOf(m).connection) || specOf(m).checks?.pgbouncer?.secretRef?.name === secretName)
      .map((m) => keyOf('DatabaseMonitor', m)),
    ...prerequisites
      .filter((p) => specOf(p).databases?.some((d) => usesSecret(d.connection)))
      .map((p) => keyOf('DatabasePrerequisite', p)),
  ];
}

/** Prerequisites to re-evaluate when a monitor they reference changes (its status included). */
export function keysReferencingMonitor(monitorName: string | undefined, prerequisites: References[]): string[] {
  return prerequisites
    .filter((p) => specOf(p).databases?.some((d) => d.monitorRef?.name === monitorName))
    .map((p) => keyOf('DatabasePrerequisite', p));
}

/** The Secrets a connection reads: its credentials, for TLS verification its CA, and PgBouncer's console login. */
export const secretNamesOf = (connection: ReferenceSpec['connection'], checks?: ReferenceSpec['checks']): string[] =>
  [connection?.secretRef?.name, connection?.tls?.caSecretRef?.name, checks?.pgbouncer?.secretRef?.name].filter(
    (n): n is string => n !== undefined,
  );
