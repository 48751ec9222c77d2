import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { dump, load } from 'js-yaml';
import { KubeApi } from '../../../src/controller/k8s/api-client.js';
import { loadClusterAccess } from '../../../src/controller/k8s/cluster-access.js';
import { adminKubeconfigPath } from '../../support/kube.js';

/**
 * Reaching the real API server through real proxies written here with node:http and node:net: an HTTP CONNECT
 * proxy and a SOCKS5 proxy. The API server is given a name only the proxies can resolve (apiserver.dbwatch.test
 * → 127.0.0.1), so a request that did not go through a proxy fails to resolve it: every success proves the
 * proxy carried it, and each proxy records the targets it was asked for.
 */
const HOST = 'apiserver.dbwatch.test';
const resolveName = (host: string) => (host.endsWith('.dbwatch.test') ? '127.0.0.1' : host);

interface Kubeconfig {
  clusters: { name: string; cluster: Record<string, unknown> }[];
  users: unknown[];
  contexts: unknown[];
}

let dir: string;
let apiPort: string;
let connectProxy: { port: number; targets: string[]; close(): void };
let socksProxy: { port: number; targets: string[]; close(): void };

/** Listens on a free loopback port; close() also ends the connections it relays. */
async function listening(server: net.Server, sockets: Set<net.Socket>) {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

async function startConnectProxy() {
  const targets: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    targets.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(/:(?=\d+$)/);
    const upstream = net.connect(Number(port), resolveName(host!), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined).on('close', () => sockets.delete(s));
    }
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
  });
  return { targets, ...(await listening(server, sockets)) };
}

/** RFC 1928 without authentication: greeting, CONNECT to a domain or IPv4 address, then relay. */
async function startSocksProxy() {
  const targets: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('error', () => undefined).on('close', () => sockets.delete(client));
    client.once('data', (greeting) => {
      if (greeting[0] !== 5) return client.destroy();
      client.write(Buffer.from([5, 0]));
      client.once('data', (request) => {
        let host: string;
        let at: number;
        if (request[3] === 3) {
          const length = request[4]!;
          host = request.subarray(5, 5 + length).toString();
          at = 5 + length;
        } else {
          host = [...request.subarray(4, 8)].join('.');
          at = 8;
        }
        const port = request.readUInt16BE(at);
        targets.push(`${host}:${port}`);
        const upstream = net.connect(port, resolveName(host), () => {
          client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
          upstream.pipe(client);
          client.pipe(upstream);
        });
        sockets.add(upstream);
        upstream.on('error', () => client.destroy()).on('close', () => sockets.delete(upstream));
      });
    });
  });
  return { targets, ...(await listening(server, sockets)) };
}

/** The admin kubeconfig with the server at `server` (its certificate names localhost) and cluster extras. */
function kubeconfig(name: string, server: string, extra: Record<string, unknown> = {}): string {
  const config = load(readFileSync(adminKubeconfigPath(), 'utf8')) as Kubeconfig;
  Object.assign(config.clusters[0]!.cluster, { server, 'tls-server-name': 'localhost', ...extra });
  const path = join(dir, `kubeconfig-${name}`);
  writeFileSync(path, dump(config), { mode: 0o600 });
  return path;
}

async function reachable(path: string, env: NodeJS.ProcessEnv): Promise<string> {
  const api = new KubeApi(await loadClusterAccess({ path, env }), { requestTimeoutMs: 5000, maxRetries: 0 });
  try {
    const version = await api.request<{ gitVersion: string }>('GET', '/version');
    return version.gitVersion;
  } catch (error) {
    return `failed: ${(error as Error).message}`;
  } finally {
    api.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dbwatch-proxy-'));
  const config = load(readFileSync(adminKubeconfigPath(), 'utf8')) as Kubeconfig;
  apiPort = new URL(String(config.clusters[0]!.cluster.server)).port;
  connectProxy = await startConnectProxy();
  socksProxy = await startSocksProxy();
});
afterAll(() => {
  connectProxy.close();
  socksProxy.close();
});

describe('proxies, as kubectl uses them', () => {
  test('HTTPS_PROXY carries the requests (without it the name does not even resolve)', async () => {
    const path = kubeconfig('env', `https://${HOST}:${apiPort}`);
    connectProxy.targets.length = 0;
    expect(await reachable(path, {})).toMatch(/^failed: .*(ENOTFOUND|EAI_AGAIN)/);
    expect(await reachable(path, { HTTPS_PROXY: `http://127.0.0.1:${connectProxy.port}` })).toMatch(/^v1\.\d+/);
    // Go's spelling rules: a bare host:port is an http:// proxy, and the lower-case variable wins.
    expect(
      await reachable(path, { https_proxy: `127.0.0.1:${connectProxy.port}`, HTTPS_PROXY: 'http://127.0.0.1:9' }),
    ).toMatch(/^v1\.\d+/);
    expect(connectProxy.targets).toEqual([`${HOST}:${apiPort}`, `${HOST}:${apiPort}`]);
  });

  test('NO_PROXY (a domain suffix, a host with its port) and loopback servers bypass the proxy', async () => {
    const path = kubeconfig('no-proxy', `https://${HOST}:${apiPort}`);
    const proxy = `http://127.0.0.1:${connectProxy.port}`;
    connectProxy.targets.length = 0;
    for (const noProxy of ['.dbwatch.test', 'dbwatch.test', `${HOST}:${apiPort}`, '*']) {
      expect(await reachable(path, { HTTPS_PROXY: proxy, NO_PROXY: noProxy })).toMatch(
        /^failed: .*(ENOTFOUND|EAI_AGAIN)/,
      );
    }
    expect(await reachable(path, { HTTPS_PROXY: proxy, NO_PROXY: `${HOST}:1,other.test` })).toMatch(/^v1\./);
    // Go never proxies localhost or a loopback address from the environment.
    expect(await reachable(kubeconfig('loopback', `https://127.0.0.1:${apiPort}`), { HTTPS_PROXY: proxy })).toMatch(
      /^v1\./,
    );
    expect(connectProxy.targets).toEqual([`${HOST}:${apiPort}`]);
  });

  test("the cluster's proxy-url wins over the environment, loopback included; socks5 too", async () => {
    connectProxy.targets.length = 0;
    socksProxy.targets.length = 0;
    const viaConnect = kubeconfig('proxy-url', `https://127.0.0.1:${apiPort}`, {
      'proxy-url': `http://127.0.0.1:${connectProxy.port}`,
    });
    expect(await reachable(viaConnect, { NO_PROXY: '*' })).toMatch(/^v1\./);
    expect(connectProxy.targets).toEqual([`127.0.0.1:${apiPort}`]);
    const viaSocks = kubeconfig('socks', `https://${HOST}:${apiPort}`, {
      'proxy-url': `socks5h://127.0.0.1:${socksProxy.port}`,
    });
    expect(await reachable(viaSocks, {})).toMatch(/^v1\./);
    expect(socksProxy.targets).toEqual([`${HOST}:${apiPort}`]);
  });

  test('an unreachable proxy fails the request with the proxy named, not a hang', async () => {
    const path = kubeconfig('dead-proxy', `https://${HOST}:${apiPort}`, { 'proxy-url': 'http://127.0.0.1:9' });
    expect(await reachable(path, {})).toMatch(/^failed: .*ECONNREFUSED 127\.0\.0\.1:9/);
  });
});
