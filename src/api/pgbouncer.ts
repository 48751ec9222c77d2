import { z } from 'zod';
import { dnsName, secretKeyName } from './common.js';
import { poolHealthSchema } from './results.js';

/** spec.checks.pgbouncer: PgBouncer's own pools, read from its admin console. */
export const pgbouncerCheckSchema = z.strictObject({
  secretRef: z
    .strictObject({
      name: dnsName.meta({ description: 'Secret in the same namespace, e.g. pgbouncer-stats.' }),
      keys: z
        .strictObject({
          host: secretKeyName
            .default('host')
            .meta({ description: 'Key holding the admin console host. Default "host".' }),
          port: secretKeyName.default('port').meta({ description: 'Key holding its port. Default "port".' }),
          username: secretKeyName
            .default('username')
            .meta({ description: 'Key holding a login in stats_users or admin_users. Default "username".' }),
          password: secretKeyName
            .default('password')
            .meta({ description: 'Key holding its password. Default "password".' }),
        })
        .optional()
        .meta({ description: 'Names of the Secret keys to read; each defaults to its own field name.' }),
    })
    .optional()
    .meta({
      description:
        "Secret with a login listed in PgBouncer's stats_users (or admin_users); its host and port keys, when present, say where the admin console listens. Default: the monitor's own Secret and address (its login must then be in stats_users).",
    }),
  database: z.string().min(1).max(63).default('pgbouncer').meta({
    description: 'Name of the admin console database. Default "pgbouncer".',
  }),
  databases: z.array(z.string().min(1).max(63)).max(100).optional().meta({
    description:
      'PgBouncer databases (names from its [databases] section) whose pools are reported; ["*"] for all. Default: the database this monitor connects to.',
  }),
});
export type PgbouncerCheck = z.infer<typeof pgbouncerCheckSchema>;

export const pgbouncerPoolSchema = z.strictObject({
  database: z.string().meta({ description: 'PgBouncer database of the pool.' }),
  user: z.string().meta({ description: 'User of the pool.' }),
  poolMode: z.string().meta({ description: 'session, transaction or statement.' }),
  clientsActive: z.number().int().meta({ description: 'Clients linked to a server connection or idle (cl_active).' }),
  clientsWaiting: z
    .number()
    .int()
    .meta({ description: 'Clients that sent a query and wait for a server connection (cl_waiting).' }),
  serversActive: z.number().int().meta({ description: 'Server connections linked to a client (sv_active).' }),
  serversIdle: z.number().int().meta({ description: 'Server connections idle and ready (sv_idle).' }),
  serversUsed: z
    .number()
    .int()
    .meta({ description: 'Server connections idle past server_check_delay, to be checked before reuse (sv_used).' }),
  serversOther: z
    .number()
    .int()
    .meta({ description: 'Server connections being tested or logging in (sv_tested + sv_login).' }),
  poolSize: z
    .number()
    .int()
    .optional()
    .meta({ description: "Server connections the pool may open (the database's pool_size or default_pool_size)." }),
  maxWaitMs: z
    .number()
    .meta({ description: 'How long the longest-waiting client has waited, in milliseconds (maxwait, maxwait_us).' }),
  utilizationPercent: z
    .number()
    .optional()
    .meta({ description: 'serversActive / poolSize in percent (0-100). Absent when the pool size is unknown.' }),
  paused: z.boolean().meta({ description: 'Whether the database is paused (PAUSE): its clients wait until RESUME.' }),
});
export type PgbouncerPool = z.infer<typeof pgbouncerPoolSchema>;

export const PgbouncerReason = {
  WithinLimits: 'WithinLimits',
  ClientsWaiting: 'ClientsWaiting',
  UtilizationHigh: 'UtilizationHigh',
  ClientLimitNear: 'ClientLimitNear',
  Paused: 'Paused',
  NoPools: 'NoPools',
  NotMeasured: 'NotMeasured',
} as const;
export type PgbouncerReason = (typeof PgbouncerReason)[keyof typeof PgbouncerReason];

export const pgbouncerResultSchema = z.strictObject({
  version: z.string().optional().meta({ description: 'PgBouncer version, e.g. 1.18.0.' }),
  pools: z.array(pgbouncerPoolSchema).meta({ description: 'The reported pools (spec.checks.pgbouncer.databases).' }),
  clientConnections: z
    .number()
    .int()
    .optional()
    .meta({ description: 'Client connections PgBouncer holds, all databases (SHOW LISTS used_clients).' }),
  maxClientConnections: z.number().int().optional().meta({ description: 'PgBouncer max_client_conn.' }),
  clientsWaiting: z.number().int().meta({ description: 'Clients waiting in the reported pools, summed.' }),
  utilizationPercent: z
    .number()
    .optional()
    .meta({ description: 'The highest pool utilization among the reported pools, in percent (0-100).' }),
  poolHealth: poolHealthSchema.optional().meta({
    description:
      'high when clients wait, a pool is paused, or a threshold is reached; else optimal below 50 %, moderate between. Absent when not read.',
  }),
  reason: z.enum(Object.values(PgbouncerReason) as [PgbouncerReason, ...PgbouncerReason[]]).meta({
    description:
      'CamelCase cause: WithinLimits, ClientsWaiting, UtilizationHigh, ClientLimitNear, Paused, NoPools or NotMeasured.',
  }),
  recommendation: z.string().meta({ description: 'What to do about the pools, in one line.' }),
  error: z.string().optional().meta({ description: 'Why the admin console could not be read.' }),
});
export type PgbouncerResult = z.infer<typeof pgbouncerResultSchema>;
