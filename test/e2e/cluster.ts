import { execFile } from 'node:child_process';
import { join } from 'node:path';

/**
 * What the e2e suite needs from its environment, so the same suite runs on the local node
 * (`npm run test:e2e` sets these up) and against kind (.github/workflows/e2e.yaml).
 */
const required = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the suite through \`npm run test:e2e\` (docs/e2e.md)`);
  return value;
};

export const e2e = {
  kubeconfig: () => required('DBWATCH_E2E_KUBECONFIG'),
  /** An image reference already present on the node (the chart installs it with pullPolicy Never). */
  image: () => required('DBWATCH_E2E_IMAGE'),
  /** An address of this machine that Pods reach (the node's bridge gateway; kind's network gateway). */
  hostAddress: () => required('DBWATCH_E2E_HOST_ADDRESS'),
  /** The Pods' addresses, allowed to log in to the test's PostgreSQL. */
  podCidr: () => required('DBWATCH_E2E_POD_CIDR'),
  /** Pod IPs routable from here (the local node's bridge); on kind they are not, so scrape through the API server. */
  podsReachable: () => process.env.DBWATCH_E2E_PODS_REACHABLE === '1',
  /** kubectl and helm; PATH when unset. */
  tool: (name: 'kubectl' | 'helm') =>
    process.env.DBWATCH_E2E_BIN_DIR ? join(process.env.DBWATCH_E2E_BIN_DIR, name) : name,
};

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(cmd: string, args: string[], input?: string, timeoutMs = 120_000): Promise<Run> {
  return new Promise((ok) => {
    const child = execFile(
      cmd,
      args,
      { timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, KUBECONFIG: e2e.kubeconfig() } },
      (error, stdout, stderr) => ok({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

export const kubectl = (args: string[], input?: string) => exec(e2e.tool('kubectl'), args, input);
export const helm = (args: string[]) => exec(e2e.tool('helm'), args, undefined, 300_000);

/** kubectl that must succeed. */
export async function mustKubectl(args: string[], input?: string): Promise<string> {
  const run = await kubectl(args, input);
  if (run.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}

export async function getJson<T = Record<string, unknown>>(args: string[]): Promise<T> {
  return JSON.parse(await mustKubectl([...args, '-o', 'json'])) as T;
}

/** Polls `probe` until it returns a value other than undefined; throws with `what` and the last state. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${last})` : ''}`);
    await new Promise((ok) => setTimeout(ok, intervalMs));
  }
}

export interface Pod {
  metadata: { name: string; deletionTimestamp?: string; labels?: Record<string, string> };
  status: {
    phase: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
    initContainerStatuses?: { name: string; state: Record<string, unknown>; ready: boolean }[];
    containerStatuses?: { name: string; state: Record<string, unknown>; ready: boolean; restartCount: number }[];
  };
}

export const podReady = (pod: Pod) =>
  pod.status.phase === 'Running' && pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

export async function pods(namespace: string, selector: string): Promise<Pod[]> {
  const list = await getJson<{ items: Pod[] }>(['get', 'pods', '-n', namespace, '-l', selector]);
  return list.items.filter((p) => !p.metadata.deletionTimestamp);
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export async function condition(
  kind: string,
  namespace: string,
  name: string,
  type: string,
): Promise<Condition | undefined> {
  const object = await getJson<{ status?: { conditions?: Condition[] } }>(['get', kind, name, '-n', namespace]);
  return object.status?.conditions?.find((c) => c.type === type);
}
