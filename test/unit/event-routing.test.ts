import { describe, expect, test } from '@jest/globals';
import { keysReferencingMonitor, keysUsingSecret, needsReconcile } from '../../src/controller/event-routing.js';

const monitor = (name: string, secret: string, ca?: string) => ({
  metadata: { name, namespace: 'ns' },
  spec: { connection: { secretRef: { name: secret }, ...(ca ? { tls: { caSecretRef: { name: ca } } } : {}) } },
});
const prerequisite = (name: string, databases: object[]) => ({
  metadata: { name, namespace: 'ns' },
  spec: { databases },
});

describe('which objects an event touches', () => {
  test('a Secret change re-checks the monitors and inline prerequisites that use it, CA Secrets included', () => {
    const monitors = [monitor('a', 'db'), monitor('b', 'other', 'db'), monitor('c', 'other')];
    const prerequisites = [
      prerequisite('p', [{ name: 'x', connection: { secretRef: { name: 'db' } } }]),
      prerequisite('q', [{ name: 'y', monitorRef: { name: 'a' } }]),
    ];
    expect(keysUsingSecret('db', monitors, prerequisites)).toEqual([
      'DatabaseMonitor/ns/a',
      'DatabaseMonitor/ns/b',
      'DatabasePrerequisite/ns/p',
    ]);
  });

  test('a monitor change re-evaluates the prerequisites that reference it', () => {
    const prerequisites = [
      prerequisite('p', [{ name: 'x', monitorRef: { name: 'orders' } }]),
      prerequisite('q', [{ name: 'y', monitorRef: { name: 'billing' } }]),
    ];
    expect(keysReferencingMonitor('orders', prerequisites)).toEqual(['DatabasePrerequisite/ns/p']);
  });

  test('status-only updates (our own writes) do not trigger a reconcile; spec changes and run requests do', () => {
    const checked = { metadata: { generation: 2 }, status: { observedGeneration: 2 } };
    expect(needsReconcile(checked)).toBe(false);
    expect(needsReconcile({ ...checked, metadata: { generation: 3 } })).toBe(true);
    expect(
      needsReconcile({
        metadata: { generation: 2, annotations: { 'dbwatch.dev/requestedAt': 't1' } },
        status: { observedGeneration: 2 },
      }),
    ).toBe(true);
    expect(
      needsReconcile({
        metadata: { generation: 2, annotations: { 'dbwatch.dev/requestedAt': 't1' } },
        status: { observedGeneration: 2, lastHandledReconcileAt: 't1' },
      }),
    ).toBe(false);
  });
});
