import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { KubeApi } from '../../src/controller/k8s/api-client.js';

/** The client-side rate limit split in two: the turn (a caller may park while it waits) and the request sent after it. */
let server: Server;
let requests = 0;
let base = '';

beforeAll(async () => {
  server = createServer((_req, res) => {
    requests++;
    res.setHeader('Content-Type', 'application/json');
    res.end('{}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
});

const client = (qps: number, burst: number) =>
  new KubeApi(
    { server: base, tls: async () => ({}) as never, headers: async () => ({}) },
    { throttle: { limit: { qps, burst } } },
  );

describe('KubeApi.turn and admitted requests', () => {
  test('a turn waits as a request would; a request sent as admitted does not wait again', async () => {
    // 10 a second, a burst of one: tokens at +0, +100, +200 ms from the first request's start.
    const api = client(10, 1);
    const started = Date.now();
    await api.request('GET', '/api');
    await api.turn();
    const turnAt = Date.now() - started;
    const before = requests;
    await api.request('GET', '/api', { admitted: true });
    const sentAt = Date.now() - started;
    expect(turnAt).toBeGreaterThanOrEqual(90);
    // No second wait: well before the next token (+200 ms).
    expect(sentAt).toBeLessThan(190);
    expect(requests).toBe(before + 1);
    // Without `admitted` a request takes a turn of its own: the next token.
    await api.request('GET', '/api');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    api.close();
  });

  test('sendIf is asked just before sending: false sends nothing and rejects', async () => {
    const api = client(100, 10);
    const before = requests;
    await expect(api.request('PUT', '/x', { body: {}, sendIf: () => false })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(requests).toBe(before);
    await api.request('PUT', '/x', { body: {}, sendIf: () => true });
    expect(requests).toBe(before + 1);
    api.close();
  });

  test('a turn is cancelled by its signal', async () => {
    const api = client(1, 1);
    await api.turn();
    await expect(api.turn(AbortSignal.timeout(50))).rejects.toThrow();
    api.close();
  });
});
