import { z } from 'zod';

export const sloSchema = z.strictObject({
  target: z
    .string()
    .regex(/^(100|[1-9]?[0-9](\.[0-9]{1,4})?)$/, 'must be a percentage such as "99.9"')
    .meta({
      description:
        'Availability objective over 7 days, in percent (0-100, up to 4 decimals) of checks in which the database was reachable and healthy, e.g. "99.9".',
    }),
});
export type SloSpec = z.infer<typeof sloSchema>;

const bucketSchema = z.strictObject({
  start: z.string().meta({ description: 'Start of the hour (or day), RFC 3339 UTC.' }),
  checks: z.number().int().min(0).meta({ description: 'Checks run in the bucket.' }),
  available: z.number().int().min(0).meta({ description: 'Checks in which the database was reachable and healthy.' }),
});

export const availabilityStatusSchema = z
  .strictObject({
    last24h: z.number().optional().meta({
      description:
        'Share of checks available over the last 24 h, a ratio 0-1 (e.g. 0.9993); the AVAILABILITY column. Absent without checks in the window.',
    }),
    last7d: z.number().optional().meta({
      description: 'Share of checks available over the last 7 days, a ratio 0-1. Absent without checks in the window.',
    }),
    target: z
      .string()
      .optional()
      .meta({ description: 'spec.slo.target, in percent, e.g. "99.9". Absent without spec.slo.' }),
    errorBudgetRemaining: z.number().optional().meta({
      description:
        'Share of the 7-day error budget left, a ratio: 1 untouched, 0 spent, negative overspent. Absent without spec.slo.',
    }),
    hours: z.array(bucketSchema).meta({ description: 'Hourly buckets of the last 24 h, oldest first.' }),
    days: z.array(bucketSchema).meta({ description: 'Daily buckets of the last 7 days, oldest first.' }),
  })
  .meta({
    description:
      'Availability history kept in status so it survives operator restarts; counts since the last status write may be lost (at most one heartbeat).',
  });
export type AvailabilityStatus = z.infer<typeof availabilityStatusSchema>;
