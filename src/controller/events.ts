/** An Event the controller wants recorded; reasons are CamelCase and fixed. */
export interface EventIntent {
  type: 'Normal' | 'Warning';
  reason:
    | 'Healthy'
    | 'Degraded'
    | 'Unhealthy'
    | 'Recovered'
    | 'MigrationsPending'
    | 'PoolHigh'
    | 'PrerequisitePassed'
    | 'PrerequisiteFailed'
    | 'InvalidSpec'
    | 'SecretNotFound';
  message: string;
}
