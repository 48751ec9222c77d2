import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { connectKube } from '../../src/controller/k8s/client.js';
import type { ControlPlane } from './control-plane.js';
import { kubectl } from './kube.js';
import { issueClientCert } from './pki.js';

/**
 * Real 429s from API Priority and Fairness, on a control plane started with `priorityAndFairness`: the users
 * named share, with a seat holder of the test's, a priority level with one seat and no queue (Reject). While
 * the seat holder's request runs — a ~27 MB list whose answer it does not read — every request of those users
 * is rejected with 429 and Retry-After; once it lets go they are served again.
 */
export interface ApfThrottle {
  /** The priority level's name (apiserver_flowcontrol_rejected_requests_total{priority_level=…}). */
  level: string;
  /** Applies the FlowSchema and PriorityLevelConfiguration: the users are in the one-seat level from now on. */
  configure(): Promise<void>;
  /** Deletes both: the users are back in the cluster's default levels (within moments). */
  remove(): Promise<void>;
  /** Takes the seat; resolves once the server is answering the holder, so the seat is surely taken. */
  hold(): Promise<{ release(): void }>;
}

const LEVEL = 'dbwatch-test-throttled';
const HOLDER = 'apf-seat-holder';
const HOG = 'apf-hog';

const manifest = (users: string[]) => `
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: PriorityLevelConfiguration
metadata: {name: ${LEVEL}}
spec:
  type: Limited
  limited:
    nominalConcurrencyShares: 0
    lendablePercent: 0
    borrowingLimitPercent: 0
    limitResponse: {type: Reject}
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata: {name: ${LEVEL}}
spec:
  priorityLevelConfiguration: {name: ${LEVEL}}
  matchingPrecedence: 100
  distinguisherMethod: {type: ByUser}
  rules:
  - subjects: [${[HOLDER, ...users].map((name) => `{kind: User, user: {name: ${name}}}`).join(', ')}]
    resourceRules: [{verbs: ["*"], apiGroups: ["*"], resources: ["*"], clusterScope: true, namespaces: ["*"]}]
    nonResourceRules: [{verbs: ["*"], nonResourceURLs: ["*"]}]
`;

/** Creates the seat holder (a user that may list ~27 MB of ConfigMaps); `configure()` then throttles. */
export async function apfThrottle(cp: ControlPlane, users: string[]): Promise<ApfThrottle> {
  const asAdmin = async (args: string[], input?: string) => {
    const done = await kubectl(args, { kubeconfig: cp.kubeconfig, ...(input ? { input } : {}) });
    if (done.code !== 0 && !/AlreadyExists|NotFound/.test(done.stderr)) throw new Error(done.stderr);
  };
  await asAdmin(['create', 'namespace', HOG]);
  await asAdmin(['create', 'role', 'lister', '-n', HOG, '--verb=list', '--resource=configmaps']);
  await asAdmin(['create', 'rolebinding', 'lister', '-n', HOG, '--role=lister', `--user=${HOLDER}`]);
  const admin = await connectKube({ kubeconfig: cp.kubeconfig });
  try {
    const big = 'x'.repeat(900_000);
    for (let i = 0; i < 30; i++) {
      await admin.request('POST', `/api/v1/namespaces/${HOG}/configmaps`, {
        body: { metadata: { name: `big-${i}` }, data: { big } },
      });
    }
  } finally {
    admin.close();
  }
  const cert = issueClientCert(cp.dir, HOLDER, []);
  const server = new URL(cp.server);
  const takeSeat = () =>
    new Promise<{ ok: true; release(): void } | { ok: false; status: number | undefined }>((resolve, reject) => {
      const req = https.request({
        host: server.hostname,
        port: server.port,
        path: `/api/v1/namespaces/${HOG}/configmaps`,
        ca: readFileSync(join(cp.dir, 'ca.crt')),
        cert: readFileSync(cert.cert),
        key: readFileSync(cert.key),
        agent: false,
      });
      req.on('response', (res) => {
        if (res.statusCode === 200) {
          res.pause(); // unread, the answer keeps the request — and its seat — running
          resolve({ ok: true, release: () => req.destroy() });
        } else {
          res.resume();
          resolve({ ok: false, status: res.statusCode });
        }
      });
      req.on('error', reject);
      req.end();
    });
  return {
    level: LEVEL,
    configure: () => asAdmin(['apply', '-f', '-'], manifest(users)),
    remove: () =>
      asAdmin(['delete', `flowschema/${LEVEL}`, `prioritylevelconfiguration/${LEVEL}`, '--ignore-not-found']),
    async hold() {
      // The throttled users may hold the one seat just now: the holder is refused too, and tries again.
      for (let attempt = 1; ; attempt++) {
        const held = await takeSeat();
        if (held.ok) return held;
        if (held.status !== 429 || attempt >= 100) throw new Error(`seat holder got HTTP ${held.status}`);
        await new Promise((ok) => setTimeout(ok, 100));
      }
    },
  };
}
