import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump, load } from 'js-yaml';
import { freePort } from './free-port.js';
import { createCa, signedCertificate } from './pki.js';

/**
 * A throwaway Alertmanager (Debian's `prometheus-alertmanager`, installed by hack/ensure-system-packages.sh) on
 * a free loopback port, HA gossip off, its notification log and silences in a temporary directory that
 * survives `restart()` — as a real Alertmanager keeps them on its volume across restarts (alerts themselves are
 * held in memory only: clients must send them again).
 */
export interface AlertmanagerServer {
  url: string;
  /** With `secure`: the files a client needs (CA, client certificate and key, basic-auth user and password). */
  client?: SecureClient;
  /** host:port, for Prometheus's alerting config. */
  address: string;
  /** Alertmanager's view of the alerts it holds (GET /api/v2/alerts, including resolved-but-kept ones). */
  alerts(): Promise<AmAlert[]>;
  stop(): Promise<void>;
  /** Starts it again on the same port with the same storage (after stop(), or stops it first). */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Removes the temporary directory (after stop). */
  destroy(): Promise<void>;
  logs(): string;
}

export interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  status: { state: 'active' | 'suppressed' | 'unprocessed'; inhibitedBy: string[]; silencedBy: string[] };
  fingerprint: string;
}

export interface SecureClient {
  caFile: string;
  certFile: string;
  keyFile: string;
  usernameFile: string;
  passwordFile: string;
}

/** Basic-auth user of a `secure` Alertmanager; the bcrypt hash of its password is in its web config. */
const USER = 'dbwatch';
const PASSWORD = 'Am-Pw-1';
const PASSWORD_BCRYPT = '$2b$10$0siYmbS9G1gyBohCEfZuvu767uA.61Kw25.rC9xbgmGMJDwVDicj2';

/**
 * A CA, a serving certificate for 127.0.0.1 and a client certificate (openssl), and the web config that makes
 * Alertmanager (its exporter-toolkit) serve TLS, require a client certificate from that CA and basic auth.
 */
function secureWeb(dir: string): SecureClient {
  createCa(dir);
  signedCertificate(dir, 'server', '/CN=alertmanager', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n', 2);
  signedCertificate(dir, 'client', '/CN=dbwatch', 'extendedKeyUsage=clientAuth\n', 2);
  writeFileSync(
    join(dir, 'web.yml'),
    JSON.stringify({
      tls_server_config: {
        cert_file: join(dir, 'server.crt'),
        key_file: join(dir, 'server.key'),
        client_auth_type: 'RequireAndVerifyClientCert',
        client_ca_file: join(dir, 'ca.crt'),
      },
      basic_auth_users: { [USER]: PASSWORD_BCRYPT },
    }),
  );
  writeFileSync(join(dir, 'username'), USER);
  writeFileSync(join(dir, 'password'), PASSWORD);
  return {
    caFile: join(dir, 'ca.crt'),
    certFile: join(dir, 'client.crt'),
    keyFile: join(dir, 'client.key'),
    usernameFile: join(dir, 'username'),
    passwordFile: join(dir, 'password'),
  };
}

/** A GET with a timeout, over TLS with the client's certificate and basic auth when `client` is given. */
function get(
  url: string,
  client: SecureClient | undefined,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const options = client
      ? {
          ca: readFileSync(client.caFile),
          cert: readFileSync(client.certFile),
          key: readFileSync(client.keyFile),
          auth: `${USER}:${PASSWORD}`,
        }
      : {};
    const req = (url.startsWith('https:') ? https : http).get(url, { ...options, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** The timings the tests use instead of the shipped 30s / 5m / 4h: seconds, not minutes. */
export const TEST_TIMINGS = { group_wait: '3s', group_interval: '2s', repeat_interval: '1h' };

/**
 * A shipped example config (deploy/alertmanager/<file>) with only its webhook URLs pointed at `webhookUrl` and
 * its route's timings shortened: grouping, inhibition and receivers stay what users get.
 */
export function exampleConfig(file: string, webhookUrl: string): string {
  const config = load(readFileSync(join('deploy/alertmanager', file), 'utf8')) as {
    route: Record<string, unknown>;
    receivers: { webhook_configs?: { url: string }[] }[];
  };
  Object.assign(config.route, TEST_TIMINGS);
  for (const receiver of config.receivers) {
    for (const webhook of receiver.webhook_configs ?? []) webhook.url = webhookUrl;
  }
  return dump(config);
}

/**
 * `secure`: HTTPS with a client certificate required and basic auth (Alertmanager's --web.config.file), as a
 * hardened Alertmanager runs; `client` then holds what a client needs.
 */
export async function startAlertmanager(
  configYaml: string,
  options: { secure?: boolean } = {},
): Promise<AlertmanagerServer> {
  const dir = mkdtempSync(join(tmpdir(), 'dbwatch-am-'));
  writeFileSync(join(dir, 'alertmanager.yml'), configYaml);
  const client = options.secure ? secureWeb(dir) : undefined;
  const port = await freePort();
  const url = `${client ? 'https' : 'http'}://127.0.0.1:${port}`;
  let stderr = '';
  let child: ChildProcess | undefined;

  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((ok) => running.once('exit', ok));
    // SIGTERM: Alertmanager writes its final notification-log snapshot before exiting.
    running.kill('SIGTERM');
    await Promise.race([exited, new Promise((ok) => setTimeout(ok, 10_000).unref())]);
    if (running.exitCode === null && running.signalCode === null) running.kill('SIGKILL');
  };

  const start = async () => {
    if (child) return;
    const started = spawn(
      'prometheus-alertmanager',
      [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
        '--log.level=warn',
        ...(client ? [`--web.config.file=${join(dir, 'web.yml')}`] : []),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child = started;
    started.stderr?.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString()).slice(-8000);
    });
    const spawnFailed = new Promise<Error>((ok) => started.once('error', ok));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready = await Promise.race([
        get(`${url}/-/ready`, client, 1000).then(
          (r) => r.status === 200,
          () => false,
        ),
        spawnFailed,
      ]);
      if (ready === true) return;
      if (ready instanceof Error || started.exitCode !== null || Date.now() > deadline) {
        await stop();
        const why = ready instanceof Error ? ready.message : `exit code ${started.exitCode}`;
        throw new Error(
          `Alertmanager did not start (${why}; Debian: apt-get install prometheus-alertmanager)\n${stderr}`,
        );
      }
      await new Promise((ok) => setTimeout(ok, 100));
    }
  };

  await start();
  return {
    url,
    ...(client ? { client } : {}),
    address: `127.0.0.1:${port}`,
    alerts: async () => {
      const response = await get(`${url}/api/v2/alerts`, client, 5000);
      if (response.status !== 200) throw new Error(`Alertmanager /api/v2/alerts: HTTP ${response.status}`);
      return JSON.parse(response.body) as AmAlert[];
    },
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    logs: () => stderr,
  };
}
