import { spawn } from 'node:child_process';

/** A kubeconfig user's `exec` stanza (client.authentication.k8s.io). */
export interface ExecConfig {
  command: string;
  args?: string[];
  env?: { name: string; value: string }[];
  apiVersion?: string;
  installHint?: string;
  provideClusterInfo?: boolean;
  interactiveMode?: 'Never' | 'IfAvailable' | 'Always';
}

export interface ExecCredential {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  /** ms since the epoch, when the plugin said. */
  expiresAt?: number;
}

const API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'];
/** A plugin may call a cloud's token service: bounded like every network call. */
const PLUGIN_TIMEOUT_MS = 60_000;
/** Refreshed once this share of its lifetime has passed, well before it expires mid-request. */
const REFRESH_AT_SHARE = 0.8;
/** After a failed refresh while the credential still holds, the next try waits this long. */
const RETRY_FAILED_REFRESH_MS = 5000;

/**
 * Credentials from an exec plugin (EKS, GKE, AKS, Teleport logins), as client-go's exec authenticator gets
 * them: the command runs with KUBERNETES_EXEC_INFO, non-interactively, its stderr passed through; the
 * ExecCredential it prints is kept until 80 % of its lifetime (expirationTimestamp) has passed, then fetched
 * again before it runs out — client-go waits for the expiry itself, and client-node reads it once per expiry.
 * A 401 from the API server discards it early. One plugin run at a time serves every concurrent request.
 */
export class ExecCredentials {
  private current: { credential: ExecCredential; refreshAt: number } | undefined;
  private running: Promise<ExecCredential> | undefined;
  private retryAfter = 0;
  /** Plugin runs so far (for tests and logs). */
  runs = 0;

  constructor(
    private readonly exec: ExecConfig,
    private readonly cluster: Record<string, unknown> | undefined,
    private readonly now: () => number = Date.now,
  ) {
    if (exec.interactiveMode === 'Always') {
      throw new Error(`exec plugin ${exec.command} needs an interactive terminal (interactiveMode: Always)`);
    }
  }

  async get(): Promise<ExecCredential> {
    const now = this.now();
    const held = this.current;
    if (held && now < held.refreshAt) return held.credential;
    const stillValid = held && (held.credential.expiresAt === undefined || now < held.credential.expiresAt);
    if (held && stillValid && now < this.retryAfter) return held.credential;
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    try {
      return await this.running;
    } catch (error) {
      if (!held || !stillValid) throw error;
      this.retryAfter = this.now() + RETRY_FAILED_REFRESH_MS;
      return held.credential;
    }
  }

  /** The API server refused the credential: the next request runs the plugin again. */
  discard(): void {
    if (this.current) this.current.refreshAt = 0;
  }

  private async run(): Promise<ExecCredential> {
    const apiVersion = this.exec.apiVersion ?? API_VERSIONS[0]!;
    if (!API_VERSIONS.includes(apiVersion)) {
      throw new Error(
        `exec plugin ${this.exec.command}: unsupported apiVersion ${apiVersion} (use ${API_VERSIONS[0]})`,
      );
    }
    const info = {
      apiVersion,
      kind: 'ExecCredential',
      spec: { interactive: false, ...(this.exec.provideClusterInfo && this.cluster ? { cluster: this.cluster } : {}) },
    };
    const env: NodeJS.ProcessEnv = { ...process.env, KUBERNETES_EXEC_INFO: JSON.stringify(info) };
    for (const { name, value } of this.exec.env ?? []) env[name] = value;
    const startedAt = this.now();
    this.runs++;
    const stdout = await runPlugin(this.exec, env);
    const credential = parseCredential(this.exec.command, apiVersion, stdout);
    const lifetime = credential.expiresAt === undefined ? Number.POSITIVE_INFINITY : credential.expiresAt - startedAt;
    // At least a second between runs, whatever the plugin says: a credential already expired cannot spin it.
    this.current = { credential, refreshAt: startedAt + Math.max(1000, lifetime * REFRESH_AT_SHARE) };
    this.retryAfter = 0;
    return credential;
  }
}

function runPlugin(exec: ExecConfig, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(exec.command, exec.args ?? [], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), PLUGIN_TIMEOUT_MS);
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const hint = error.code === 'ENOENT' && exec.installHint ? `\n${exec.installHint}` : '';
      reject(new Error(`exec plugin ${exec.command} could not run: ${error.message}${hint}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else if (signal === 'SIGKILL') reject(new Error(`exec plugin ${exec.command} gave no answer within 60 s`));
      // Its own messages went to stderr; stdout may hold half a credential and is never quoted.
      else reject(new Error(`exec plugin ${exec.command} exited with code ${code ?? signal} (see its messages above)`));
    });
  });
}

/** The plugin's answer, checked as client-go checks it; the error names the plugin, never the output. */
function parseCredential(command: string, apiVersion: string, stdout: string): ExecCredential {
  const fail = (why: string) => new Error(`exec plugin ${command}: ${why}`);
  let parsed: { apiVersion?: string; kind?: string; status?: Record<string, unknown> };
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw fail('printed no ExecCredential JSON');
  }
  if (parsed.kind !== 'ExecCredential' || parsed.apiVersion !== apiVersion) {
    const printed = [parsed.kind, parsed.apiVersion].filter(Boolean).join(' ') || 'no kind';
    throw fail(`printed ${printed}, expected ExecCredential ${apiVersion}`);
  }
  const status = parsed.status ?? {};
  const str = (key: string) => (typeof status[key] === 'string' && status[key] ? (status[key] as string) : undefined);
  const credential: ExecCredential = {
    token: str('token'),
    clientCertificateData: str('clientCertificateData'),
    clientKeyData: str('clientKeyData'),
  };
  if (!credential.clientCertificateData !== !credential.clientKeyData) {
    throw fail('clientCertificateData and clientKeyData must come together');
  }
  if (!credential.token && !credential.clientCertificateData)
    throw fail('the ExecCredential has neither token nor certificate');
  const expiry = str('expirationTimestamp');
  if (expiry !== undefined) {
    const at = Date.parse(expiry);
    if (Number.isNaN(at)) throw fail(`expirationTimestamp ${expiry} is not a time`);
    credential.expiresAt = at;
  }
  return credential;
}
