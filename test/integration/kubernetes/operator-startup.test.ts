import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { dump, load } from 'js-yaml';
import { createEngine } from '../../../src/checks/index.js';
import { type OperatorOptions, startOperator } from '../../../src/controller/operator.js';
import { createLogger } from '../../../src/controller/runtime/logger.js';
import { StartupError } from '../../../src/controller/startup.js';
import { freePort } from '../../support/free-port.js';
import { adminKubeconfigPath, ensureCrds } from '../../support/kube.js';

/**
 * Set-up mistakes a first hour meets are one line with what to do and exit 3, never a stack trace: the metrics
 * port taken, no kubeconfig, an API server that is not there, credentials it refuses. The first two through the
 * real `dbwatch operator` process; the others through startOperator with a short start-up wait.
 */

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dbwatch-startup-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function operatorProcess(env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((ok) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'operator'],
      { env, timeout: 60_000 },
      (error, stdout, stderr) => ok({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

const { KUBECONFIG: _k, KUBERNETES_SERVICE_HOST: _h, ...baseEnv } = process.env;

const noStackTrace = (text: string) => {
  expect(text).not.toMatch(/\n\s+at /);
  expect(text).not.toMatch(/Node\.js v\d/);
};

describe('dbwatch operator start-up problems', () => {
  test('metrics port in use: one line, exit 3', async () => {
    const holder = net.createServer();
    await new Promise<void>((ok) => holder.listen(0, '0.0.0.0', ok));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const run = await operatorProcess({
        ...baseEnv,
        KUBECONFIG: adminKubeconfigPath(),
        METRICS_PORT: String(port),
        LEADER_ELECT: 'false',
      });
      expect(run.code).toBe(3);
      expect(run.stderr).toBe(
        `operator not started: metrics port ${port} is already in use (METRICS_PORT): stop the process that holds it, or set METRICS_PORT to a free port (0 picks one)\n`,
      );
      noStackTrace(run.stdout + run.stderr);
    } finally {
      holder.close();
    }
  });

  test('no kubeconfig and not in a cluster: one line, exit 3', async () => {
    const run = await operatorProcess({ ...baseEnv, HOME: dir, METRICS_PORT: '0', LEADER_ELECT: 'false' });
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(
      'operator not started: cannot load the kubeconfig: no kubeconfig found ($KUBECONFIG, ~/.kube/config) and not running in a cluster: set KUBECONFIG to a kubeconfig file (npm run cluster:up prints one), or run in a Pod with a ServiceAccount\n',
    );
    noStackTrace(run.stdout + run.stderr);
  });

  /** The admin kubeconfig with another server address, or another user's token. */
  function kubeconfigWith(change: (config: Record<string, any>) => void): string {
    const config = load(readFileSync(adminKubeconfigPath(), 'utf8')) as Record<string, any>;
    change(config);
    const path = join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}`);
    writeFileSync(path, dump(config));
    return path;
  }

  function start(kubeconfig: string, logs: string[]): Promise<unknown> {
    const sink = new Writable({
      write(chunk, _enc, done) {
        logs.push(chunk.toString());
        done();
      },
    });
    const options: OperatorOptions = {
      kubeconfig,
      namespaces: ['default'],
      maxConcurrentChecks: 1,
      metricsPort: 0,
      leaderElection: { enabled: false, namespace: 'default', name: 'unused' },
      gracePeriodMs: 1000,
      engineFactory: createEngine,
      log: createLogger('info', sink),
      apiStartupWaitMs: 1500,
    };
    return startOperator(options);
  }

  test('an API server that is not there: waits its start-up budget, says where it looked and what to check', async () => {
    const port = await freePort();
    const logs: string[] = [];
    const started = Date.now();
    const failure = await start(
      kubeconfigWith((c) => {
        c.clusters[0].cluster.server = `https://127.0.0.1:${port}`;
      }),
      logs,
    ).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StartupError);
    expect((failure as Error).message).toBe(
      `cannot reach the Kubernetes API server at https://127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}) after 1.5 s: is the cluster up (npm run cluster:up) and KUBECONFIG pointing at it? In a Pod: is the API server reachable from the node?`,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    // One line while waiting, without a stack trace.
    expect(logs.filter((l) => /waiting for the API server/.test(l))).toHaveLength(1);
    for (const line of logs) expect(line).not.toMatch(/"stack"/);
  });

  test('credentials the API server refuses end the start at once', async () => {
    const logs: string[] = [];
    const failure = await start(
      kubeconfigWith((c) => {
        c.users[0].user = { token: 'not-a-token' };
      }),
      logs,
    ).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StartupError);
    expect((failure as Error).message).toMatch(
      /^the API server at https:\/\/127\.0\.0\.1:\d+ refused the credentials \(GET \/version: HTTP 401: Unauthorized\): check the user in the kubeconfig/,
    );
  });

  test('a reachable API server: one line saying so, then the caches sync', async () => {
    const logs: string[] = [];
    await ensureCrds();
    const operator = (await start(adminKubeconfigPath(), logs)) as { stop(): Promise<void> };
    try {
      const connected = logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'connected to the API server');
      expect(connected).toMatchObject({ level: 30, version: expect.stringMatching(/^v1\.\d+\.\d+/) });
      expect(logs.some((l) => /caches synced/.test(l))).toBe(true);
    } finally {
      await operator.stop();
    }
  });
});
