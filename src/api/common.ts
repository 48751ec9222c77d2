import { z } from 'zod';
import { DURATION_LIMITS, durationMs } from './duration.js';
import { withRules } from './validation-rule.js';

export const API_GROUP = 'dbwatch.dev';
export const API_VERSION = 'v1alpha1';

/** Go-style durations as used by Kubernetes tooling: 30s, 5m, 1h30m, 500ms. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';

/** The pattern as a CEL string literal: `[.]` instead of `\.`, which is not an escape CEL knows. */
const CEL_DURATION = DURATION_PATTERN.replace('\\.', '[.]');

/**
 * Durations CEL's duration() parses without overflowing (Go's int64 nanoseconds, ~2.5 million hours): per unit
 * fewer digits than would pass 24h by much. A duration the pattern accepts but this does not is far above 24h.
 */
const CEL_SAFE_DURATION =
  '^((0*[0-9]{1,8}([.][0-9]+)?ms)|(0*[0-9]{1,6}([.][0-9]+)?s)|(0*[0-9]{1,5}([.][0-9]+)?m)|(0*[0-9]{1,4}([.][0-9]+)?h))+$';

/**
 * A bounded duration. The API server checks the bounds with CEL's duration(), which parses the same Go syntax —
 * but only on text the pattern accepts and that cannot overflow it: the API server runs every rule even when the
 * pattern has failed, and duration() on "soon" or "99999999999h" is a "type conversion error … google.protobuf.
 * Duration" instead of a message. Text that is not a duration at all gets the pattern's message alone.
 */
export const duration = (fallback: string, limits: { min: string; max: string } = DURATION_LIMITS) => {
  if (durationMs(limits.max)! > durationMs('24h')!) throw new Error('CEL_SAFE_DURATION assumes bounds of at most 24h');
  return withRules(
    z
      .string()
      .max(32)
      .regex(new RegExp(DURATION_PATTERN), 'must be a duration such as 30s, 5m or 1h30m')
      .default(fallback),
    [
      {
        cel:
          `!self.matches('${CEL_DURATION}') || (self.matches('${CEL_SAFE_DURATION}') && ` +
          `duration(self) >= duration('${limits.min}') && duration(self) <= duration('${limits.max}'))`,
        check: (text) => {
          const ms = durationMs(text);
          return ms === undefined || (ms >= durationMs(limits.min)! && ms <= durationMs(limits.max)!);
        },
        message: `must be between ${limits.min} and ${limits.max}`,
      },
    ],
  );
};

/** Kubernetes Secret key names (the same rule as the API server's). */
export const secretKeyName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[-._a-zA-Z0-9]+$/, 'must be a Secret key name (letters, digits, -, _ and .)');

/** A DNS name (any case, as resolvers accept it), an IPv4 address or a bracket-less IPv6 address. */
export const HOST_PATTERN = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?|[0-9A-Fa-f:.]+)$/;

export const dnsName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a lowercase DNS name such as my-secret');

/** A standard Kubernetes condition (metav1.Condition). */
export const conditionSchema = z.strictObject({
  type: z.string().min(1).max(316).meta({ description: 'Condition type, e.g. Ready, Reconciling, Stalled.' }),
  status: z.enum(['True', 'False', 'Unknown']).meta({ description: 'True, False or Unknown.' }),
  reason: z
    .string()
    .min(1)
    .max(1024)
    .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
    .meta({
      description: 'CamelCase reason for the last transition, e.g. Healthy, SecretNotFound (docs/operator.md).',
    }),
  message: z.string().max(32768).meta({ description: 'Human-readable detail of the transition; may be empty.' }),
  lastTransitionTime: z
    .string()
    .meta({ description: 'When status last changed (RFC 3339 UTC), not when the condition was last written.' }),
  observedGeneration: z
    .number()
    .int()
    .min(0)
    .optional()
    .meta({ description: 'metadata.generation of the spec this condition was computed for.' }),
});
export type Condition = z.infer<typeof conditionSchema>;

export const conditionsList = z.array(conditionSchema).meta({
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
  description: 'Standard Kubernetes conditions (metav1.Condition), one per type.',
});

/**
 * The Events of the transition a status was written for, carried in that status until the next write: the
 * replica that wrote it records them once the write succeeded; when it could not — it died, or never heard the
 * answer of a write the API server applied — whichever replica reads the status next records them. Each Event's
 * name comes from the object and `at`, so none is recorded twice.
 */
export const transitionEventsSchema = z
  .strictObject({
    at: z.string().meta({ description: 'When the transition was observed (RFC 3339 UTC); it names the Events.' }),
    events: z
      .array(
        z.strictObject({
          type: z.enum(['Normal', 'Warning']).meta({ description: 'Normal or Warning.' }),
          reason: z.string().min(1).meta({ description: 'CamelCase reason, e.g. Unhealthy (docs/operator.md).' }),
          message: z.string().max(1024).meta({ description: 'The Event message.' }),
        }),
      )
      .meta({ description: 'The Events, in the order they are recorded.' }),
  })
  .meta({
    description:
      'The Events of the transition this status was written for, until the next write: recorded exactly once, by the replica that wrote it or, if it could not, by the next one to read it.',
  });
export type TransitionEvents = z.infer<typeof transitionEventsSchema>;

export const engineSchema = z.enum(['postgres', 'mssql']);
export type EngineName = z.infer<typeof engineSchema>;

export const secretKeysSchema = z
  .strictObject({
    url: secretKeyName.default('url').meta({
      description:
        'Key holding a whole connection string (postgres://…, mssql://… or ADO.NET); the separate keys, when present, override its parts. Default "url".',
    }),
    host: secretKeyName
      .default('host')
      .meta({ description: 'Key holding the server host name or IP. Default "host".' }),
    port: secretKeyName.default('port').meta({
      description: 'Key holding the TCP port (1-65535); when absent, 5432 (postgres) or 1433 (mssql). Default "port".',
    }),
    database: secretKeyName
      .default('database')
      .meta({ description: 'Key holding the database name. Default "database".' }),
    username: secretKeyName
      .default('username')
      .meta({ description: 'Key holding the login name. Default "username".' }),
    password: secretKeyName.default('password').meta({
      description: 'Key holding the password; never shown in status, Events, logs or metrics. Default "password".',
    }),
    instance: secretKeyName.default('instance').meta({
      description: 'Key holding a SQL Server named instance (optional; ignored for postgres). Default "instance".',
    }),
  })
  .meta({ description: 'Names of the Secret keys to read; each defaults to its own field name.' });

export const tlsSchema = z.strictObject({
  mode: z.enum(['disable', 'require', 'verify-ca', 'verify-full']).default('disable').meta({
    description:
      'disable: plain TCP. require: encrypt, trust any certificate. verify-ca: check the chain. verify-full: chain and host name. Default disable.',
  }),
  caSecretRef: z
    .strictObject({
      name: dnsName.meta({ description: 'Name of the Secret holding the CA bundle, e.g. orders-db-ca.' }),
      key: secretKeyName.default('ca.crt').meta({ description: 'Key in that Secret. Default "ca.crt".' }),
    })
    .optional()
    .meta({ description: 'Secret (same namespace) holding the PEM CA bundle for verify-ca / verify-full.' }),
});

export const connectionSchema = z
  .strictObject({
    secretRef: z
      .strictObject({
        name: dnsName.meta({ description: 'Secret in the same namespace as this resource, e.g. orders-db.' }),
        keys: secretKeysSchema.optional(),
      })
      .meta({
        description:
          'Secret with the connection details: a url key, or host, port, database, username and password keys.',
      }),
    host: z.string().min(1).max(253).regex(HOST_PATTERN, 'must be a host name or an IP address').optional().meta({
      description:
        "Server host name or IP, overriding the Secret's (e.g. orders-rw.shop.svc when the Secret holds a name that resolves only in its own namespace). Not secret.",
    }),
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .optional()
      .meta({ description: "TCP port (1-65535), overriding the Secret's." }),
    database: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .meta({ description: "Database name, overriding the Secret's (for Secrets that hold only a login)." }),
    tls: tlsSchema.optional().meta({
      description: "TLS settings; when absent, the url's sslmode / Encrypt setting, else disable (plain TCP).",
    }),
    connectTimeoutSeconds: z.number().int().min(1).max(300).default(10).meta({
      description: 'Seconds allowed to open a connection (TCP, TLS and login), 1-300. Default 10.',
    }),
    sessionPolicy: z.enum(['Reuse', 'PerCheck']).default('PerCheck').meta({
      description:
        'PerCheck: log in on every check and close afterwards (no server connection held between checks). Reuse: keep one warm session from check to check (fewer logins at short intervals, one server connection held per monitor; a fresh login still runs every freshLoginInterval). Default PerCheck.',
    }),
    freshLoginInterval: duration('5m').meta({
      description:
        'How often a check also opens a new connection (connect, authenticate, SELECT 1, close) besides the warm session, so a broken login path (max_connections, pg_hba.conf, expired role) is seen; every check while it fails. Go duration, 1s-24h. Default 5m.',
    }),
  })
  .meta({ description: 'How to reach the database: a Secret with its address and login, and TLS.' });
export type ConnectionSpec = z.infer<typeof connectionSchema>;
