import net from 'node:net';
import { describe, expect, test } from '@jest/globals';
import { ApiAbortedError, KubeApiError } from '../../src/controller/k8s/api-client.js';
import { errorFields, isStartingUp, metricsPortProblem } from '../../src/controller/startup.js';

/** A real refused connection, as the reflector meets it when the API server is gone. */
const refused = () =>
  new Promise<Error>((ok) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => net.connect(port, '127.0.0.1').on('error', ok));
    });
  });

describe('expected errors are one line in the log; bugs keep their stack', () => {
  test('a refused connection and an API error are text, a TypeError keeps err with its stack', async () => {
    expect(errorFields(await refused())).toEqual({
      error: expect.stringMatching(/^connect ECONNREFUSED 127\.0\.0\.1:\d+$/),
    });
    const starting = new KubeApiError(
      429,
      { message: 'storage is (re)initializing' },
      'GET',
      '/apis/dbwatch.dev/v1alpha1/databasemonitors',
    );
    expect(errorFields(starting)).toEqual({
      error: 'GET /apis/dbwatch.dev/v1alpha1/databasemonitors: HTTP 429: storage is (re)initializing',
    });
    // A Lease request aborted at its attempt's deadline (leader election logs it itself): one line, with why.
    const aborted = new ApiAbortedError(
      'PUT',
      '/apis/coordination.k8s.io/v1/namespaces/ops/leases/dbwatch-operator',
      new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
    );
    expect(errorFields(aborted)).toEqual({
      error:
        'PUT /apis/coordination.k8s.io/v1/namespaces/ops/leases/dbwatch-operator: cancelled: The operation was aborted due to timeout',
    });
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')");
    expect(errorFields(bug)).toEqual({ err: bug });
  });

  test('429 "storage is (re)initializing" is the API server starting; other statuses are not', () => {
    expect(isStartingUp(new KubeApiError(429, undefined, 'GET', '/x'))).toBe(true);
    expect(isStartingUp(new KubeApiError(403, undefined, 'GET', '/x'))).toBe(false);
  });

  test('a port in use or not ours names METRICS_PORT and what to do', () => {
    expect(metricsPortProblem({ code: 'EADDRINUSE' }, 8080)?.message).toBe(
      'metrics port 8080 is already in use (METRICS_PORT): stop the process that holds it, or set METRICS_PORT to a free port (0 picks one)',
    );
    expect(metricsPortProblem({ code: 'EACCES' }, 80)?.message).toMatch(/^metrics port 80 may not be bound/);
    expect(metricsPortProblem({ code: 'EMFILE' }, 8080)).toBeUndefined();
  });
});
