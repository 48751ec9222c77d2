import { z } from 'zod';
import { API_GROUP, API_VERSION } from './common.js';
import { databaseDiscoverySpecSchema, databaseDiscoveryStatusSchema } from './database-discovery.js';
import { databaseMonitorSpecSchema, databaseMonitorStatusSchema } from './database-monitor.js';
import { databasePrerequisiteSpecSchema, databasePrerequisiteStatusSchema } from './database-prerequisite.js';

type JsonSchema = { [key: string]: unknown };

/** Zod's OpenAPI output, made structural: keywords a CRD schema may not carry are dropped. */
export function toStructuralSchema(schema: z.ZodType): JsonSchema {
  return clean(z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'throw' }));
}

function clean(node: unknown): JsonSchema {
  if (Array.isArray(node)) return node.map(clean) as unknown as JsonSchema;
  if (node === null || typeof node !== 'object') return node as JsonSchema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema' || (key === 'additionalProperties' && value === false)) continue;
    // Safe-integer bounds that zod adds to every int() are noise in kubectl explain.
    if ((key === 'minimum' || key === 'maximum') && Math.abs(value as number) >= Number.MAX_SAFE_INTEGER) continue;
    out[key] = key === 'default' || key === 'enum' ? value : clean(value);
  }
  return out;
}

interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
}

interface CrdInput {
  kind: string;
  plural: string;
  shortName: string;
  /** What `kubectl explain <kind>` says about the kind itself. */
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  columns: PrinterColumn[];
}

/** Ready is in plain `kubectl get` (Flux's layout): the one column that is never stale or carried over. */
const readyColumn: PrinterColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
};
const messageColumn: PrinterColumn = {
  name: 'Message',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].message',
  priority: 1,
};

function customResourceDefinition(input: CrdInput) {
  const singular = input.kind.toLowerCase();
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${input.plural}.${API_GROUP}` },
    spec: {
      group: API_GROUP,
      scope: 'Namespaced',
      names: {
        kind: input.kind,
        listKind: `${input.kind}List`,
        plural: input.plural,
        singular,
        shortNames: [input.shortName],
        categories: ['dbwatch'],
      },
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            readyColumn,
            ...input.columns,
            messageColumn,
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: input.description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: 'dbwatch.dev/v1alpha1.' },
                kind: { type: 'string', description: `${input.kind}.` },
                // The API server refuses anything but a type here; kubectl explain uses ObjectMeta's own text.
                metadata: { type: 'object' },
                spec: toStructuralSchema(input.spec),
                status: toStructuralSchema(input.status),
              },
            },
          },
        },
      ],
    },
  };
}

export const databaseMonitorCrd = () =>
  customResourceDefinition({
    kind: 'DatabaseMonitor',
    plural: 'databasemonitors',
    shortName: 'dbmon',
    description:
      'Checks one PostgreSQL or SQL Server database on an interval and reports its health, connection utilization, migrations, performance and availability in status.',
    spec: databaseMonitorSpecSchema,
    status: databaseMonitorStatusSchema,
    columns: [
      { name: 'Engine', type: 'string', jsonPath: '.spec.engine' },
      { name: 'Status', type: 'string', jsonPath: '.status.status' },
      { name: 'Response', type: 'number', jsonPath: '.status.health.responseTimeMs', description: 'ms' },
      {
        name: 'Utilization %',
        type: 'number',
        jsonPath: '.status.pool.utilizationPercent',
        description: "The server's connection utilization",
      },
      { name: 'Migration', type: 'string', jsonPath: '.status.health.migrationStatus.currentVersion' },
      {
        name: 'Availability',
        type: 'number',
        jsonPath: '.status.availability.last24h',
        description: 'Share of checks reachable and healthy over the last 24 h',
      },
      {
        name: 'Reported',
        type: 'date',
        jsonPath: '.status.lastCheckTime',
        description:
          'Age of the check this status reports; unchanged results are rewritten every max(interval, 5m), so up to that old',
      },
      {
        name: 'Heartbeat By',
        type: 'string',
        jsonPath: '.status.nextHeartbeatTime',
        priority: 1,
        description: 'The status is rewritten by then even if nothing changes',
      },
    ],
  });

export const databasePrerequisiteCrd = () =>
  customResourceDefinition({
    kind: 'DatabasePrerequisite',
    plural: 'databaseprerequisites',
    shortName: 'dbprereq',
    description:
      'A gate for workloads: Ready when every listed database is reachable and its migrations are applied (see dbwatch wait).',
    spec: databasePrerequisiteSpecSchema,
    status: databasePrerequisiteStatusSchema,
    columns: [
      { name: 'Status', type: 'string', jsonPath: '.status.overallStatus' },
      { name: 'Passed', type: 'integer', jsonPath: '.status.summary.passed' },
      { name: 'Failed', type: 'integer', jsonPath: '.status.summary.failed' },
      { name: 'Warning', type: 'integer', jsonPath: '.status.summary.warning' },
    ],
  });

export const databaseDiscoveryCrd = () =>
  customResourceDefinition({
    kind: 'DatabaseDiscovery',
    plural: 'databasediscoveries',
    shortName: 'dbdisc',
    description:
      'Finds databases that CloudNativePG, Crunchy PGO or Zalando already run, or Secrets selected by label, and keeps one DatabaseMonitor for each.',
    spec: databaseDiscoverySpecSchema,
    status: databaseDiscoveryStatusSchema,
    columns: [
      { name: 'Discovered', type: 'integer', jsonPath: '.status.discovered' },
      { name: 'Created', type: 'integer', jsonPath: '.status.created', description: 'Databases with their monitor' },
      { name: 'Waiting', type: 'integer', jsonPath: '.status.waiting' },
      { name: 'Failed', type: 'integer', jsonPath: '.status.failed' },
    ],
  });

export const allCrds = () => [
  { file: 'dbwatch.dev_databasemonitors.yaml', crd: databaseMonitorCrd() },
  { file: 'dbwatch.dev_databaseprerequisites.yaml', crd: databasePrerequisiteCrd() },
  { file: 'dbwatch.dev_databasediscoveries.yaml', crd: databaseDiscoveryCrd() },
];
