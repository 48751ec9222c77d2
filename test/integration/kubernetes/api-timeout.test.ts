import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { dump } from 'js-yaml';
import { connectKube, makeClients } from '../../../src/controller/k8s/client.js';
import { startBlackHole } from '../../support/black-hole.js';

let hole: Awaited<ReturnType<typeof startBlackHole>>;
beforeAll(async () => {
  hole = await startBlackHole();
});
afterAll(async () => hole.stop());

describe('Kubernetes API calls are bounded', () => {
  test('a server that accepts and never answers fails the call at the request timeout', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kc-')), 'config');
    writeFileSync(
      path,
      dump({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          { name: 'c', cluster: { server: `https://127.0.0.1:${hole.port}`, 'insecure-skip-tls-verify': true } },
        ],
        users: [{ name: 'u', user: { token: 't' } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
    const clients = makeClients(await connectKube({ kubeconfig: path, requestTimeoutMs: 500 }));
    const started = Date.now();
    await expect(clients.api.request('GET', '/api/v1/namespaces')).rejects.toThrow(
      /no answer from the API server within 0.5 s/,
    );
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(3000);
  });
});
