import { API_GROUP, API_VERSION } from '../../api/index.js';
import { withTimeout } from '../../checks/timeout.js';
import { connectKube, makeClients, statusCodeOf } from '../k8s/client.js';
import type { PrerequisiteObject } from '../types.js';
import { gateState } from './gate.js';

export interface WaitOptions {
  name: string;
  namespace: string;
  timeoutMs: number;
  pollMs?: number;
  kubeconfig?: string;
  onProgress?: (message: string) => void;
}

/**
 * The init-container gate: polls the DatabasePrerequisite until it is Ready for its current generation.
 * Unlike `kubectl wait` it waits through "not found" and through API errors until the deadline.
 */
export async function waitForPrerequisite(options: WaitOptions): Promise<{ ready: boolean; message: string }> {
  const clients = makeClients(await connectKube({ kubeconfig: options.kubeconfig }));
  const deadline = Date.now() + options.timeoutMs;
  let lastMessage = '';
  for (;;) {
    let message: string;
    try {
      const obj = (await withTimeout(
        clients.objects.getNamespacedCustomObject({
          group: API_GROUP,
          version: API_VERSION,
          namespace: options.namespace,
          plural: 'databaseprerequisites',
          name: options.name,
        }),
        10_000,
        'reading the DatabasePrerequisite',
      )) as PrerequisiteObject;
      const state = gateState(obj, options.name);
      if (state.ready) return state;
      message = state.message;
    } catch (error) {
      const code = statusCodeOf(error);
      message =
        code === 404 ? gateState(undefined, options.name).message : `cannot read it yet: ${(error as Error).message}`;
      if (code === 403)
        message = `forbidden: the ServiceAccount needs get on databaseprerequisites in ${options.namespace}`;
    }
    if (message !== lastMessage) options.onProgress?.(message);
    lastMessage = message;
    if (Date.now() >= deadline) return { ready: false, message };
    await new Promise((ok) => setTimeout(ok, Math.min(options.pollMs ?? 2000, Math.max(0, deadline - Date.now()))));
  }
}
