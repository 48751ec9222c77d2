import { z } from 'zod';
import { DURATION_LIMITS, durationMs } from './duration.js';
import { withRules } from './validation-rule.js';

export const API_GROUP = 'dbwatch.dev';
export const API_VERSION = 'v1alpha1';

/** Go-style durations as used by Kubernetes tooling: 30s, 5m, 1h30m, 500ms. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';

/**
 * A bounded duration. The API server checks the bounds with CEL's duration(), which parses the same Go syntax;
 * text that is not a duration at all is left to the pattern, so it gets one message, not two.
 */
export const duration = (fallback: string, limits: { min: string; max: string } = DURATION_LIMITS) =>
  withRules(
    z
      .string()
      .max(32)
      .regex(new RegExp(DURATION_PATTERN), 'must be a duration such as 30s, 5m or 1h30m')
      .default(fallback),
    [
      {
        cel: `duration(self) >= duration('${limits.min}') && duration(self) <= duration('${limits.max}')`,
        check: (text) => {
          const ms = durationMs(text);
          return ms === undefined || (ms >= durationMs(limits.min)! && ms <= durationMs(limits.max)!);
        },
        message: `must be between ${limits.min} and ${limits.max}`,
      },
    ],
  );

/** Kubernetes Secret key names (the same rule as the API server's). */
export const secretKeyName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[-._a-zA-Z0-9]+$/, 'must be a Secret key name (letters, digits, -, _ and .)');

export const dnsName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a lowercase DNS name such as my-secret');

/** A standard Kubernetes condition (metav1.Condition). */
export const conditionSchema = z.strictObject({
  type: z.string().min(1).max(316),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z
    .string()
    .min(1)
    .max(1024)
    .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/),
  message: z.string().max(32768),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().int().min(0).optional(),
});
export type Condition = z.infer<typeof conditionSchema>;

export const conditionsList = z
  .array(conditionSchema)
  .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });

export const engineSchema = z.enum(['postgres', 'mssql']);
export type EngineName = z.infer<typeof engineSchema>;

export const secretKeysSchema = z
  .strictObject({
    url: secretKeyName.default('url'),
    host: secretKeyName.default('host'),
    port: secretKeyName.default('port'),
    database: secretKeyName.default('database'),
    username: secretKeyName.default('username'),
    password: secretKeyName.default('password'),
    instance: secretKeyName.default('instance'),
  })
  .meta({ description: 'Names of the Secret keys to read; each defaults to its own field name.' });

export const tlsSchema = z.strictObject({
  mode: z.enum(['disable', 'require', 'verify-ca', 'verify-full']).default('disable').meta({
    description:
      'disable: plain TCP. require: encrypt, trust any certificate. verify-ca: check the chain. verify-full: chain and host name.',
  }),
  caSecretRef: z
    .strictObject({ name: dnsName, key: secretKeyName.default('ca.crt') })
    .optional()
    .meta({ description: 'Secret (same namespace) holding the PEM CA bundle for verify-ca / verify-full.' }),
});

export const connectionSchema = z.strictObject({
  secretRef: z.strictObject({
    name: dnsName.meta({ description: 'Secret in the same namespace as this resource.' }),
    keys: secretKeysSchema.optional(),
  }),
  tls: tlsSchema.optional(),
  connectTimeoutSeconds: z.number().int().min(1).max(300).default(10),
});
export type ConnectionSpec = z.infer<typeof connectionSchema>;
