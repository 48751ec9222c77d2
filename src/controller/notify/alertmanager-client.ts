import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { PostableAlert } from './direct-alerts.js';

/** Where and how to reach one Alertmanager; credentials are file paths (a mounted Secret), read per request. */
export interface AlertmanagerEndpoint {
  /** Base URL (with any route prefix), without credentials: alerts go to `<url>/api/v2/alerts`. */
  url: string;
  timeoutMs: number;
  bearerTokenFile?: string;
  basicAuth?: { usernameFile: string; passwordFile: string };
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

/** A post Alertmanager did not accept. `retry`: false when resending the same alerts cannot help (HTTP 4xx). */
export class PostFailed extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
    this.name = 'PostFailed';
  }
}

const IDLE_SOCKET_MS = 30_000;
const ERROR_BODY_MAX = 300;

/**
 * POSTs alerts to Alertmanager's v2 API over one keep-alive connection, each request bounded by the timeout
 * (connect, send and answer together). TLS files are read again when their contents change (cert-manager
 * rotation), the token and password on every post (projected tokens rotate). Errors name the Alertmanager
 * and its answer, never a credential.
 */
export class AlertmanagerClient {
  private readonly target: URL;
  private agent: http.Agent | undefined;
  private tlsMaterial = '';

  constructor(private readonly endpoint: AlertmanagerEndpoint) {
    this.target = new URL(`${endpoint.url.replace(/\/+$/, '')}/api/v2/alerts`);
  }

  get url(): string {
    return this.endpoint.url;
  }

  async post(alerts: PostableAlert[], signal?: AbortSignal): Promise<void> {
    const timeout = AbortSignal.timeout(this.endpoint.timeoutMs);
    const abort = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const body = Buffer.from(JSON.stringify(alerts));
    let headers: Record<string, string>;
    let agent: http.Agent;
    try {
      headers = {
        'Content-Type': 'application/json',
        'Content-Length': String(body.length),
        'User-Agent': 'dbwatch',
        ...(await this.authorization()),
      };
      agent = await this.currentAgent();
    } catch (error) {
      // A mounted Secret key that is missing or unreadable: says which file, never its contents.
      const e = error as NodeJS.ErrnoException;
      throw new PostFailed(
        `${this.endpoint.url}: cannot read ${e.path ?? 'a credentials file'}: ${e.code ?? e.message}`,
        true,
      );
    }
    let status: number;
    let text: string;
    try {
      const secure = this.target.protocol === 'https:';
      ({ status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = (secure ? https : http).request(this.target, { method: 'POST', headers, agent, signal: abort });
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            // Only the start of an error answer is kept: a misbehaving server cannot make this grow.
            if (size < ERROR_BODY_MAX) chunks.push(chunk);
            size += chunk.length;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
          // A connection cut mid-answer (or the timeout): settle even if no 'error' comes (a no-op after 'end').
          res.on('close', () => reject(new Error('connection closed before the answer was complete')));
        });
        req.on('error', reject);
        req.end(body);
      }));
    } catch (error) {
      if (timeout.aborted) {
        throw new PostFailed(`${this.endpoint.url}: no answer within ${this.endpoint.timeoutMs / 1000} s`, true);
      }
      if (signal?.aborted) throw new PostFailed(`${this.endpoint.url}: post cancelled`, true);
      const e = error as NodeJS.ErrnoException;
      throw new PostFailed(`${this.endpoint.url}: ${e.code ?? e.message}`, true);
    }
    if (status >= 200 && status < 300) return;
    const answer = text.slice(0, ERROR_BODY_MAX).trim();
    // 4xx: these alerts are invalid or we are not allowed (a fix, not a retry, helps); 408/429: later.
    const retry = status >= 500 || status === 408 || status === 429;
    throw new PostFailed(`${this.endpoint.url}: HTTP ${status}${answer ? `: ${answer}` : ''}`, retry);
  }

  close(): void {
    this.agent?.destroy();
  }

  private async authorization(): Promise<Record<string, string>> {
    const { bearerTokenFile, basicAuth } = this.endpoint;
    if (bearerTokenFile) return { Authorization: `Bearer ${(await readFile(bearerTokenFile, 'utf8')).trim()}` };
    if (basicAuth) {
      const [user, password] = await Promise.all([
        readFile(basicAuth.usernameFile, 'utf8'),
        readFile(basicAuth.passwordFile, 'utf8'),
      ]);
      return { Authorization: `Basic ${Buffer.from(`${user.trim()}:${password.trim()}`).toString('base64')}` };
    }
    return {};
  }

  private async currentAgent(): Promise<http.Agent> {
    if (this.target.protocol !== 'https:') {
      this.agent ??= new http.Agent({ keepAlive: true, maxSockets: 1, timeout: IDLE_SOCKET_MS });
      return this.agent;
    }
    const files = this.endpoint.tls ?? {};
    const read = (file: string | undefined) => (file ? readFile(file, 'utf8') : Promise.resolve(undefined));
    const [ca, cert, key] = await Promise.all([read(files.caFile), read(files.certFile), read(files.keyFile)]);
    const material = JSON.stringify([ca, cert, key]);
    if (!this.agent || material !== this.tlsMaterial) {
      this.agent?.destroy();
      this.tlsMaterial = material;
      this.agent = new https.Agent({
        keepAlive: true,
        maxSockets: 1,
        timeout: IDLE_SOCKET_MS,
        ...(ca ? { ca } : {}),
        ...(cert ? { cert } : {}),
        ...(key ? { key } : {}),
      });
    }
    return this.agent;
  }
}
