import {
  API_GROUP,
  API_VERSION,
  connectionSchema,
  type DatabaseDiscoverySpec,
  type DatabaseMonitorSpec,
  DiscoveryAnnotation,
  DiscoveryLabel,
  DiscoveryReason,
  type DiscoverySource,
  databaseMonitorSpecSchema,
  dnsName,
} from '../../api/index.js';
import { apiVersionOf, qualifiedKind, type SourceKind } from './source-kinds.js';
import { findCloudNativePG } from './sources/cloudnativepg.js';
import { findCrunchy } from './sources/crunchy.js';
import { findSecrets } from './sources/secrets.js';
import { findZalando } from './sources/zalando.js';
import type { DiscoveryWorld, FoundDatabase, SourceRef, Waiting } from './types.js';

export interface DiscoveryRef {
  namespace: string;
  name: string;
  uid: string;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}

/** A DatabaseMonitor as the discovery wants it, in the namespace of the database it watches. */
export interface DesiredMonitor {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  ownerReferences: OwnerReference[];
  /** Parsed with the monitor schema's defaults, as the API server stores it. */
  spec: DatabaseMonitorSpec;
  source: SourceRef;
  /** Set while the database is not ready: the monitor is not created (an existing one is kept). */
  waiting?: Waiting;
}

/** A database found that gets no monitor, and why. */
export interface Problem {
  source: string;
  monitor?: string;
  reason: string;
  message: string;
}

export const sourceLabel = (s: SourceRef) => `${s.kind.kind}/${s.namespace}/${s.name}`;

/** Which source kinds a discovery spec reads (the Pooler comes with CloudNativePG). */
export function sourceKindsOf(source: DiscoverySource): ('cloudnativepg' | 'crunchy' | 'zalando' | 'secrets')[] {
  return [
    ...(source.cloudNativePG ? (['cloudnativepg'] as const) : []),
    ...(source.crunchy ? (['crunchy'] as const) : []),
    ...(source.zalando ? (['zalando'] as const) : []),
    ...(source.secrets ? (['secrets'] as const) : []),
  ];
}

function findIn(source: DiscoverySource, namespace: string, world: DiscoveryWorld): FoundDatabase[] {
  if (source.cloudNativePG) return findCloudNativePG(source.cloudNativePG, namespace, world);
  if (source.crunchy) return findCrunchy(source.crunchy, namespace, world);
  if (source.zalando) return findZalando(source.zalando, namespace, world);
  if (source.secrets) return findSecrets(source.secrets, namespace, world);
  return [];
}

/** Label values are at most 63 characters: longer names are cut and end in a hash of the whole. */
export function labelValue(text: string): string {
  if (text.length <= 63) return text;
  let hash = 0x811c9dc5;
  for (const c of text) hash = Math.imul(hash ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return `${text.slice(0, 54).replace(/[-_.]+$/, '')}-${hash.toString(16).padStart(8, '0')}`;
}

/** The labels that make a monitor this discovery's (and the only ones compared to decide ownership). */
export const ownerLabels = (d: DiscoveryRef) => ({
  [DiscoveryLabel.Discovery]: labelValue(d.name),
  [DiscoveryLabel.DiscoveryNamespace]: d.namespace,
});

export const isOwnedBy = (labels: Record<string, string> | undefined, d: DiscoveryRef) =>
  labels?.[DiscoveryLabel.Discovery] === labelValue(d.name) &&
  labels?.[DiscoveryLabel.DiscoveryNamespace] === d.namespace;

function ownerReferences(found: FoundDatabase, discovery: DiscoveryRef): OwnerReference[] {
  const kind: SourceKind = found.source.kind;
  const toSource = { apiVersion: apiVersionOf(kind), kind: kind.kind, name: found.source.name, uid: found.source.uid };
  // ownerReferences cannot cross namespaces: a discovery elsewhere is recorded by labels only.
  if (found.source.namespace !== discovery.namespace) return [toSource];
  return [
    toSource,
    {
      apiVersion: `${API_GROUP}/${API_VERSION}`,
      kind: 'DatabaseDiscovery',
      name: discovery.name,
      uid: discovery.uid,
      controller: true,
    },
  ];
}

/**
 * The template's part of every monitor spec, parsed once per pass with the monitor schema (its defaults, and any
 * field added to it later, come out as the API server stores them); each database then parses only its connection.
 */
function templateSpec(template: DatabaseDiscoverySpec['template']): DatabaseMonitorSpec {
  return databaseMonitorSpecSchema.parse({
    engine: 'postgres',
    connection: { secretRef: { name: 'template' } },
    interval: template.interval,
    timeoutSeconds: template.timeoutSeconds,
    checks: template.checks,
    thresholds: template.thresholds,
    ...(template.slo ? { slo: template.slo } : {}),
  });
}

function monitorSpec(found: FoundDatabase, base: DatabaseMonitorSpec, template: DatabaseDiscoverySpec['template']) {
  const connection = connectionSchema.safeParse({
    secretRef: { name: found.secretName, keys: found.keys },
    ...(found.host !== undefined ? { host: found.host } : {}),
    ...(found.port !== undefined ? { port: found.port } : {}),
    ...(found.database !== undefined ? { database: found.database } : {}),
    ...(template.connection.tls ? { tls: template.connection.tls } : {}),
    connectTimeoutSeconds: template.connection.connectTimeoutSeconds,
  });
  if (!connection.success) return connection;
  return { success: true as const, data: { ...base, engine: found.engine, connection: connection.data } };
}

/**
 * Pure: sources + template → the monitors this discovery should own, and the databases that get none. A
 * database found twice (two sources, or two names expanding alike) gets one monitor: the first in source order.
 */
export function desiredMonitors(
  discovery: DiscoveryRef,
  spec: DatabaseDiscoverySpec,
  namespaces: string[],
  world: DiscoveryWorld,
): { monitors: DesiredMonitor[]; problems: Problem[] } {
  const monitors: DesiredMonitor[] = [];
  const problems: Problem[] = [];
  const taken = new Map<string, SourceRef>();
  const base = templateSpec(spec.template);
  for (const source of spec.sources) {
    for (const namespace of namespaces) {
      for (const found of findIn(source, namespace, world)) {
        const label = sourceLabel(found.source);
        const key = `${namespace}/${found.monitorName}`;
        const earlier = taken.get(key);
        if (earlier) {
          if (earlier.uid !== found.source.uid) {
            problems.push({
              source: label,
              monitor: found.monitorName,
              reason: DiscoveryReason.DuplicateName,
              message: `monitor name ${found.monitorName} is already used for ${sourceLabel(earlier)}: set the source's name`,
            });
          }
          continue;
        }
        if (!dnsName.safeParse(found.monitorName).success) {
          problems.push({
            source: label,
            monitor: found.monitorName,
            reason: DiscoveryReason.InvalidName,
            message: `monitor name ${JSON.stringify(found.monitorName)} is not a lowercase DNS name: set the source's name`,
          });
          continue;
        }
        const parsed = monitorSpec(found, base, spec.template);
        if (!parsed.success) {
          problems.push({
            source: label,
            monitor: found.monitorName,
            reason: DiscoveryReason.InvalidMonitor,
            message: parsed.error.issues.map((i) => `spec.connection.${i.path.join('.')}: ${i.message}`).join('; '),
          });
          continue;
        }
        taken.set(key, found.source);
        monitors.push({
          namespace,
          name: found.monitorName,
          labels: {
            ...spec.template.metadata?.labels,
            ...ownerLabels(discovery),
            [DiscoveryLabel.SourceKind]: qualifiedKind(found.source.kind),
            [DiscoveryLabel.SourceName]: labelValue(found.source.name),
            [DiscoveryLabel.ManagedBy]: 'dbwatch',
          },
          annotations: {
            ...spec.template.metadata?.annotations,
            [DiscoveryAnnotation.Source]: `${qualifiedKind(found.source.kind)}/${namespace}/${found.source.name}`,
          },
          ownerReferences: ownerReferences(found, discovery),
          spec: parsed.data,
          source: found.source,
          ...(found.waiting ? { waiting: found.waiting } : {}),
        });
      }
    }
  }
  return { monitors, problems };
}
