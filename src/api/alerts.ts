/**
 * Alert vocabulary shared by the Prometheus rules (deploy/prometheus/dbwatch-rules.yaml) and the alerts the
 * operator posts to Alertmanager itself (src/controller/notify): the same names and labels on both paths, so
 * one Alertmanager routing tree serves either. docs/observability.md describes each alert.
 */
export const AlertName = {
  DatabaseDown: 'DbwatchDatabaseDown',
  DatabaseDegraded: 'DbwatchDatabaseDegraded',
  MigrationsFailed: 'DbwatchMigrationsFailed',
} as const;
export type AlertName = (typeof AlertName)[keyof typeof AlertName];

export const Severity = { Critical: 'critical', Warning: 'warning' } as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

/**
 * Reasons of a monitor's state that no condition carries (the others are ConditionReason values or the
 * engines' failure causes): exported as dbwatch_database_status_reason and in alerts' `reason` annotation.
 */
export const StateReason = {
  /** SQL Server answers but the database's state_desc is not ONLINE (RESTORING, SUSPECT, OFFLINE…). */
  DatabaseNotOnline: 'DatabaseNotOnline',
} as const;
