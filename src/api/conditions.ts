/**
 * Naming: "connection utilization" is the server's connections in use against its usable maximum (checked by
 * spec.checks.pool, reported in status.pool.utilizationPercent/poolHealth); "client pool" is dbwatch's own
 * small pool of connections to the database (status.pool.poolSize/checkedOut/waiting). The CRD field names
 * (pool, poolUtilizationPercent) predate this and stay; conditions, Events, metrics and docs use the two names.
 *
 * The operator's vocabulary, in one place (as CloudNativePG keeps api/v1/cluster_conditions.go): condition
 * types, their reasons, Event reasons and annotations. docs/operator.md describes each; code refers to these.
 */

export const ConditionType = {
  Ready: 'Ready',
  Reconciling: 'Reconciling',
  Stalled: 'Stalled',
  Connected: 'Connected',
  MigrationsApplied: 'MigrationsApplied',
  /** The server's connection utilization (not dbwatch's own client pool). */
  ConnectionUtilizationWithinLimits: 'ConnectionUtilizationWithinLimits',
  PerformanceWithinTarget: 'PerformanceWithinTarget',
  /** PgBouncer's pools in front of the database (spec.checks.pgbouncer): no client waits, none saturated. */
  PgBouncerPoolsWithinLimits: 'PgBouncerPoolsWithinLimits',
  /** spec.slo.target met over the last 7 days. */
  SLOMet: 'SLOMet',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

/** Problems no retry can fix: Stalled=True until the spec or a Secret changes. */
export const StallReason = {
  InvalidSpec: 'InvalidSpec',
  SecretNotFound: 'SecretNotFound',
  SecretKeyMissing: 'SecretKeyMissing',
  InvalidConnection: 'InvalidConnection',
} as const;
export type StallReason = (typeof StallReason)[keyof typeof StallReason];

export const ConditionReason = {
  ...StallReason,
  // Ready (DatabaseMonitor)
  Healthy: 'Healthy',
  Degraded: 'Degraded',
  Unhealthy: 'Unhealthy',
  Progressing: 'Progressing',
  Suspended: 'Suspended',
  // Ready (DatabasePrerequisite)
  Passed: 'Passed',
  Warning: 'Warning',
  Failed: 'Failed',
  /** DatabasePrerequisite: a referenced monitor has not checked its current spec yet. */
  WaitingForMonitor: 'WaitingForMonitor',
  // Reconciling / Stalled when all is well
  Checked: 'Checked',
  // Connected (the failure causes come from the engines' error classification)
  Connected: 'Connected',
  ConnectionFailed: 'ConnectionFailed',
  // MigrationsApplied
  UpToDate: 'UpToDate',
  MigrationFailed: 'MigrationFailed',
  MigrationsPending: 'MigrationsPending',
  MigrationTableUnreadable: 'MigrationTableUnreadable',
  /** The table alone cannot tell whether an expected migration is applied (Alembic ancestry, Rails gaps, ...). */
  MigrationStateUnknown: 'MigrationStateUnknown',
  NotChecked: 'NotChecked',
  // ConnectionUtilizationWithinLimits
  WithinLimits: 'WithinLimits',
  UtilizationHigh: 'UtilizationHigh',
  NotMeasured: 'NotMeasured',
  // PgBouncerPoolsWithinLimits (also WithinLimits, UtilizationHigh, NotMeasured)
  ClientsWaiting: 'ClientsWaiting',
  ClientLimitNear: 'ClientLimitNear',
  Paused: 'Paused',
  NoPools: 'NoPools',
  // PerformanceWithinTarget
  WithinTarget: 'WithinTarget',
  SlowerThanTarget: 'SlowerThanTarget',
  // SLOMet
  ObjectiveMet: 'ObjectiveMet',
  ErrorBudgetExhausted: 'ErrorBudgetExhausted',
  NoChecksYet: 'NoChecksYet',
} as const;
export type ConditionReason = (typeof ConditionReason)[keyof typeof ConditionReason];

export const EventReason = {
  Healthy: 'Healthy',
  Degraded: 'Degraded',
  Unhealthy: 'Unhealthy',
  Recovered: 'Recovered',
  MigrationsPending: 'MigrationsPending',
  /** The server's connection utilization crossed its threshold. */
  ConnectionUtilizationHigh: 'ConnectionUtilizationHigh',
  /** PgBouncer's pools turned saturated (clients waiting, paused, a limit reached). */
  PgBouncerPoolsSaturated: 'PgBouncerPoolsSaturated',
  PrerequisitePassed: 'PrerequisitePassed',
  PrerequisiteFailed: 'PrerequisiteFailed',
  InvalidSpec: 'InvalidSpec',
  SecretNotFound: 'SecretNotFound',
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];

export const Annotation = {
  /** Asks for an immediate run (Flux's requestedAt pattern); echoed in status.lastHandledReconcileAt. */
  RequestedAt: 'dbwatch.dev/requestedAt',
} as const;

/** DatabaseDiscovery: why a discovered database has no monitor yet, and the discovery's own conditions. */
export const DiscoveryReason = {
  // Ready
  AllMonitored: 'AllMonitored',
  Waiting: 'Waiting',
  MonitorsFailed: 'MonitorsFailed',
  SourceUnavailable: 'SourceUnavailable',
  // Reconciling / Stalled
  Progressing: 'Progressing',
  Reconciled: 'Reconciled',
  InvalidSpec: 'InvalidSpec',
  NamespaceSelectorNotAllowed: 'NamespaceSelectorNotAllowed',
  SourceNotEnabled: 'SourceNotEnabled',
  // Per database (status.problems)
  SourceNotReady: 'SourceNotReady',
  SecretNotFound: 'SecretNotFound',
  NameClash: 'NameClash',
  InvalidName: 'InvalidName',
  DuplicateName: 'DuplicateName',
  InvalidMonitor: 'InvalidMonitor',
  WriteFailed: 'WriteFailed',
} as const;
export type DiscoveryReason = (typeof DiscoveryReason)[keyof typeof DiscoveryReason];

/**
 * Labels and annotations on the DatabaseMonitors a DatabaseDiscovery creates. The two discovery labels are
 * the ownership record: a monitor without both, matching, is never touched.
 */
export const DiscoveryLabel = {
  Discovery: 'dbwatch.dev/discovery',
  DiscoveryNamespace: 'dbwatch.dev/discovery-namespace',
  /** Kind.group of the source object, e.g. Cluster.postgresql.cnpg.io, or Secret. */
  SourceKind: 'dbwatch.dev/source-kind',
  /** Its name (names over 63 characters are cut and end in a hash). */
  SourceName: 'dbwatch.dev/source-name',
  ManagedBy: 'app.kubernetes.io/managed-by',
} as const;

export const DiscoveryAnnotation = {
  /** Kind.group/namespace/name of the source object, in full. */
  Source: 'dbwatch.dev/source',
} as const;
