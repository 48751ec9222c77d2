import { BlockList, isIP } from 'node:net';

/**
 * Which proxy a request to the API server goes through, decided as Go's net/http does for client-go
 * (golang.org/x/net/http/httpproxy): a kubeconfig cluster's `proxy-url` wins; otherwise https_proxy /
 * HTTPS_PROXY for an https server (http_proxy / HTTP_PROXY for http), unless no_proxy / NO_PROXY matches
 * the server or the server is localhost or a loopback address (never proxied from the environment).
 */
export function proxyFor(server: URL, proxyUrl: string | undefined, env: NodeJS.ProcessEnv): URL | undefined {
  if (proxyUrl) return parseProxy(proxyUrl);
  const any = (...names: string[]) => names.map((n) => env[n]).find((v) => v !== undefined && v !== '');
  const fromEnv = server.protocol === 'https:' ? any('https_proxy', 'HTTPS_PROXY') : any('http_proxy', 'HTTP_PROXY');
  if (!fromEnv) return undefined;
  const host = server.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = server.port || (server.protocol === 'https:' ? '443' : '80');
  if (!useProxy(host, port, any('no_proxy', 'NO_PROXY') ?? '')) return undefined;
  return parseProxy(fromEnv);
}

/** A proxy address without a scheme is http:// (as Go reads it). */
function parseProxy(text: string): URL {
  try {
    const url = new URL(text);
    if (url.host) return url;
  } catch {
    // not absolute: below
  }
  try {
    return new URL(`http://${text}`);
  } catch {
    throw new Error(`invalid proxy address "${text}"`);
  }
}

const isLoopback = (ip: string) => {
  const loopback = new BlockList();
  loopback.addSubnet('127.0.0.0', 8, 'ipv4');
  loopback.addAddress('::1', 'ipv6');
  return loopback.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
};

/** NO_PROXY entries: `*`, an IP or CIDR, a domain (`foo.com` and `.foo.com` match its subdomains), each with an optional port. */
function useProxy(host: string, port: string, noProxy: string): boolean {
  if (host === 'localhost') return false;
  const ipFamily = isIP(host);
  if (ipFamily && isLoopback(host)) return false;
  for (const raw of noProxy.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return false;
    const cidr = /^(.+)\/(\d+)$/.exec(entry);
    if (cidr && isIP(cidr[1]!)) {
      if (!ipFamily) continue;
      const list = new BlockList();
      const family = isIP(cidr[1]!) === 6 ? 'ipv6' : 'ipv4';
      list.addSubnet(cidr[1]!, Number(cidr[2]), family);
      if (list.check(host, ipFamily === 6 ? 'ipv6' : 'ipv4')) return false;
      continue;
    }
    const { entryHost, entryPort } = splitHostPort(entry);
    if (!entryHost) continue;
    const portMatches = entryPort === undefined || entryPort === port;
    if (isIP(entryHost)) {
      if (ipFamily && sameIp(entryHost, host) && portMatches) return false;
      continue;
    }
    if (ipFamily) continue;
    const domain = entryHost.startsWith('*.') ? entryHost.slice(1) : entryHost;
    const dotted = domain.startsWith('.') ? domain : `.${domain}`;
    const exact = !domain.startsWith('.') && host === domain;
    if ((host.endsWith(dotted) || exact) && portMatches) return false;
  }
  return true;
}

function splitHostPort(entry: string): { entryHost: string; entryPort?: string } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { entryHost: bracketed[1]!, entryPort: bracketed[2] };
  if (isIP(entry) === 6) return { entryHost: entry };
  const withPort = /^(.*):(\d+)$/.exec(entry);
  return withPort ? { entryHost: withPort[1]!, entryPort: withPort[2] } : { entryHost: entry };
}

function sameIp(a: string, b: string): boolean {
  const list = new BlockList();
  const family = isIP(a) === 6 ? 'ipv6' : 'ipv4';
  list.addAddress(a, family);
  return list.check(b, isIP(b) === 6 ? 'ipv6' : 'ipv4');
}
