import { describe, expect, test } from '@jest/globals';
import { trimCached } from '../../src/controller/cache-trim.js';

describe('trimming cached objects', () => {
  const object = () => ({
    metadata: {
      name: 'orders',
      namespace: 'shop',
      uid: 'u1',
      generation: 3,
      resourceVersion: '42',
      annotations: {
        'dbwatch.dev/requestedAt': 't1',
        'kubectl.kubernetes.io/last-applied-configuration': '{"spec":{"interval":"1m"}}',
      },
      managedFields: [{ manager: 'dbwatch', fieldsV1: { 'f:status': { 'f:conditions': {} } } }],
    },
    spec: { interval: '1m' },
    status: { observedGeneration: 3 },
  });

  test('drops managedFields and the last-applied annotation, keeps everything a reconciler reads', () => {
    const trimmedObject = trimCached(object());
    expect(trimmedObject).toEqual({
      metadata: {
        name: 'orders',
        namespace: 'shop',
        uid: 'u1',
        generation: 3,
        resourceVersion: '42',
        annotations: { 'dbwatch.dev/requestedAt': 't1' },
      },
      spec: { interval: '1m' },
      status: { observedGeneration: 3 },
    });
  });

  test('the handler sees the trimmed object, and the object itself (the cached one) is trimmed in place', () => {
    const cached = object();
    const seen = trimCached(cached);
    expect(seen).toBe(cached);
    expect(cached.metadata).not.toHaveProperty('managedFields');
  });

  test('availability buckets equal across cached monitors are one object', () => {
    const withHistory = () => ({
      ...object(),
      status: {
        availability: { hours: [{ start: '2026-12-05T21:00:00.000Z', checks: 60, available: 60 }], last24h: 1 },
      },
    });
    const a = trimCached(withHistory());
    const b = trimCached(withHistory());
    expect(b.status.availability.hours[0]).toBe(a.status.availability.hours[0]);
    expect(b).toEqual({ ...withHistory(), metadata: a.metadata });
  });
});
