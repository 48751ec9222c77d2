import http from 'node:http';
import https from 'node:https';
import type { TlsMaterial } from './cluster-access.js';

/** Pooled connections idle this long are closed by us, before kube-apiserver's 90 s idle timeout races a reuse. */
const IDLE_SOCKET_MS = 60_000;

/**
 * Keep-alive connections to one API server. The TLS material can change while the operator runs (a rotated
 * in-cluster CA, a client certificate refreshed by an exec plugin): a new agent then serves new requests, and
 * the old one is left to finish what it carries (watches end within minutes, idle sockets close after a minute).
 * A proxy library is loaded only when a proxy is in use.
 */
export class ConnectionPool {
  private current: { tls: TlsMaterial; agent: Promise<http.Agent> } | undefined;
  private readonly retired = new Set<Promise<http.Agent>>();

  constructor(
    private readonly server: URL,
    private readonly proxy: URL | undefined,
  ) {}

  agent(tls: TlsMaterial): Promise<http.Agent> {
    if (this.current?.tls !== tls) {
      if (this.current) this.retired.add(this.current.agent);
      this.current = { tls, agent: makeAgent(this.server, tls, this.proxy) };
    }
    return this.current.agent;
  }

  close(): void {
    for (const agent of [...this.retired, this.current?.agent]) void agent?.then((a) => a.destroy()).catch(() => {});
    this.retired.clear();
    this.current = undefined;
  }
}

async function makeAgent(server: URL, tls: TlsMaterial, proxy: URL | undefined): Promise<http.Agent> {
  const secure = server.protocol === 'https:';
  const options = { keepAlive: true, timeout: IDLE_SOCKET_MS, ...(secure ? tls : {}) };
  if (!proxy) return secure ? new https.Agent(options) : new http.Agent(options);
  if (proxy.protocol === 'http:' || proxy.protocol === 'https:') {
    // An HTTP CONNECT tunnel (hpagent), TLS to the API server inside it.
    const { HttpProxyAgent, HttpsProxyAgent } = await import('hpagent');
    return secure ? new HttpsProxyAgent({ ...options, proxy }) : new HttpProxyAgent({ ...options, proxy });
  }
  if (proxy.protocol === 'socks5:' || proxy.protocol === 'socks5h:') {
    const { SocksProxyAgent } = await import('socks-proxy-agent');
    return new SocksProxyAgent(proxy, options);
  }
  throw new Error(`proxy ${proxy.protocol}//${proxy.host}: only http, https and socks5 proxies are supported`);
}
