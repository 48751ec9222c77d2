import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { launch, stopProcesses, waitFor } from './control-plane.js';
import { freePort } from './free-port.js';
import { writeKubeconfig } from './kubeconfig.js';
import { issueClientCert } from './pki.js';

/**
 * A real single node beside the control plane (test/support/control-plane.ts): containerd with its own
 * config, root, state and socket; kubelet, kube-controller-manager, kube-scheduler and kube-proxy built
 * from the same Go module as kube-apiserver; a CNI bridge on a private /24 that never leaves the machine.
 * Everything it creates outside its directory is recorded at `up` and removed at `down`
 * (docs/control-plane.md, "A real node").
 */
export interface NodeNetwork {
  bridge: string;
  /** a.b.c.0/24 */
  subnet: string;
  gateway: string;
  /** ClusterIP of the `kubernetes` Service (first address of the control plane's service range). */
  serviceIp: string;
}

export const NODE_NAME = 'dbwatch-node';
const REPO = resolve(import.meta.dirname, '../..');

export function nodeNetwork(): NodeNetwork {
  const subnet = process.env.DBWATCH_NODE_SUBNET ?? '10.213.77.0/24';
  const prefix = subnet.replace(/\.0\/24$/, '');
  if (prefix === subnet) throw new Error(`DBWATCH_NODE_SUBNET must be an a.b.c.0/24 network, got ${subnet}`);
  return { bridge: 'dbwatch0', subnet, gateway: `${prefix}.1`, serviceIp: '10.0.0.1' };
}

const run = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
const tryRun = (cmd: string, args: string[]) => {
  try {
    return run(cmd, args);
  } catch {
    return undefined;
  }
};

/** Host paths the node's components write whatever their configured directories say. */
const HOST_PATHS = [
  '/var/lib/cni',
  '/var/lib/kubelet',
  '/var/log/containers',
  '/var/log/pods',
  '/usr/libexec/kubernetes',
  '/run/containerd',
  '/opt/containerd',
  '/etc/cni',
  '/run/netns',
];
const CGROUP_ROOT = '/sys/fs/cgroup';

interface HostRecord {
  paths: string[];
  netns: string[];
  nftTables: string[];
  cgroups: string[];
  ipForward: string;
}

const nftTables = () =>
  (tryRun('nft', ['list', 'tables']) ?? '')
    .split('\n')
    .map((l) => l.replace(/^table /, '').trim())
    .filter(Boolean);
/** Tables that appeared since `up` (kube-proxy's, and iptables-nft's from kubelet); without a record only kube-proxy's. */
const isNodeTable = (table: string, record: HostRecord | undefined) =>
  record ? !record.nftTables.includes(table) : table.endsWith(' kube-proxy');
const netnsEntries = () => (existsSync('/run/netns') ? readdirSync('/run/netns') : []);
const kubepodsCgroups = () =>
  existsSync(CGROUP_ROOT)
    ? readdirSync(CGROUP_ROOT)
        .map((h) => join(CGROUP_ROOT, h, 'kubepods'))
        .filter((p) => existsSync(p))
    : [];
const ipForward = () => readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();

/**
 * One node per machine: the bridge, kube-proxy's nftables table, the `kubepods` cgroups and the host paths are
 * the machine's, not a checkout's. The checkout that brings a node up claims it here (created exclusively, so
 * two `up --node` cannot both win); only that checkout's `down` touches the machine, and another's `up --node`
 * is refused while it lives. /run empties at boot, as the node's state does. DBWATCH_NODE_CLAIM moves it (tests).
 */
export const nodeClaimPath = () => process.env.DBWATCH_NODE_CLAIM ?? '/run/dbwatch-node.owner';

interface NodeClaim {
  /** The claiming checkout's cluster directory (absolute). */
  dir: string;
  pid: number;
  at: string;
}

function readClaim(): NodeClaim | undefined {
  try {
    return JSON.parse(readFileSync(nodeClaimPath(), 'utf8')) as NodeClaim;
  } catch {
    return undefined;
  }
}

/** The checkout that owns the machine's node, if any: a claim whose directory still holds a node. */
export function nodeOwner(): string | undefined {
  const claim = readClaim();
  return claim && existsSync(join(claim.dir, 'node')) ? claim.dir : undefined;
}

/**
 * Whether `dir`'s checkout owns the node. Without any claim (a node brought up before claims existed), the
 * checkout that has a node directory does.
 */
export function ownsNode(dir: string): boolean {
  const claim = readClaim();
  if (claim) return claim.dir === resolve(dir);
  return existsSync(join(dir, 'node'));
}

/** Claims the machine's node for `dir`, or says which checkout has it. A claim whose checkout has no node left is stale. */
export function claimNode(dir: string): void {
  const mine: NodeClaim = { dir: resolve(dir), pid: process.pid, at: new Date().toISOString() };
  try {
    writeFileSync(nodeClaimPath(), JSON.stringify(mine), { flag: 'wx' });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const owner = nodeOwner();
  if (owner && owner !== mine.dir) {
    throw new Error(
      `the machine's node belongs to the cluster in ${owner} (one node per machine): run \`npm run cluster:down\` there first`,
    );
  }
  // Ours already, or stale (its checkout took its node down or is gone): take it over atomically.
  const next = `${nodeClaimPath()}.${process.pid}`;
  writeFileSync(next, JSON.stringify(mine));
  renameSync(next, nodeClaimPath());
}

function releaseNode(dir: string): void {
  if (readClaim()?.dir === resolve(dir)) rmSync(nodeClaimPath(), { force: true });
}

/** What existed before `up`, so that `down` removes exactly what the node added. */
function recordHost(dir: string): HostRecord {
  const record: HostRecord = {
    paths: HOST_PATHS.filter((p) => existsSync(p)),
    netns: netnsEntries(),
    nftTables: nftTables(),
    cgroups: kubepodsCgroups(),
    ipForward: ipForward(),
  };
  writeFileSync(join(dir, 'host-record.json'), JSON.stringify(record, null, 2));
  return record;
}

/**
 * Before the control plane starts (kube-apiserver listens on the bridge's gateway): records the host's
 * state for `stopNode`, then creates the bridge.
 */
export function prepareNode(dir: string, network: NodeNetwork): void {
  claimNode(dir);
  const nodeDir = join(dir, 'node');
  mkdirSync(nodeDir, { recursive: true });
  if (!existsSync(join(nodeDir, 'host-record.json'))) recordHost(nodeDir);
  createBridge(network);
}

function createBridge(network: NodeNetwork): void {
  if (!tryRun('ip', ['link', 'show', network.bridge])) {
    run('ip', ['link', 'add', network.bridge, 'type', 'bridge']);
  }
  tryRun('ip', ['addr', 'add', `${network.gateway}/24`, 'dev', network.bridge]);
  run('ip', ['link', 'set', network.bridge, 'up']);
}

function containerdConfig(dir: string, pauseImage: string, cniConfDir: string): string {
  return `version = 2
root = "${join(dir, 'containerd/root')}"
state = "${join(dir, 'containerd/state')}"
[grpc]
  address = "${socketPath(dir)}"
[plugins."io.containerd.internal.v1.opt"]
  path = "${join(dir, 'containerd/opt')}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${pauseImage}"
  # Trap 1: without CAP_SYS_RESOURCE runc cannot set the pause container's oom_score_adj to -998.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${cniConfDir}"
`;
}

/**
 * The bridge is created up front with the gateway address; the plugin only attaches veths
 * (isGateway false: with true it would switch ip_forward on). Pods route through the gateway, which
 * is a local address: Pod → host and Pod → ClusterIP (DNAT to the gateway) never need forwarding.
 */
function cniConfig(dir: string, network: NodeNetwork): string {
  return JSON.stringify(
    {
      cniVersion: '0.4.0',
      name: 'dbwatch',
      plugins: [
        {
          type: 'bridge',
          bridge: network.bridge,
          isGateway: false,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            dataDir: join(dir, 'cni-ipam'),
            ranges: [[{ subnet: network.subnet, gateway: network.gateway }]],
            routes: [{ dst: '0.0.0.0/0', gw: network.gateway }],
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

function kubeletConfig(dir: string, nodeDir: string, port: number, network: NodeNetwork): string {
  return JSON.stringify(
    {
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      address: network.gateway,
      port,
      readOnlyPort: 0,
      healthzPort: 0,
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true },
        x509: { clientCAFile: join(dir, 'ca.crt') },
      },
      authorization: { mode: 'Webhook' },
      // Trap 2: Kubernetes 1.35 refuses cgroup v1 unless told otherwise (these machines are v1 hybrid).
      failCgroupV1: false,
      cgroupDriver: 'cgroupfs',
      failSwapOn: false,
      resolvConf: '',
      // Local images cannot be pulled again: never garbage-collect them.
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      evictionHard: { 'memory.available': '50Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
      podLogsDir: join(nodeDir, 'pod-logs'),
      volumePluginDir: join(nodeDir, 'volume-plugins'),
      serializeImagePulls: false,
      maxPods: 50,
    },
    null,
    2,
  );
}

const socketPath = (dir: string) => join(dir, 'containerd/containerd.sock');

export function ctr(dir: string, args: string[]): string {
  return run('ctr', ['--address', socketPath(dir), '--namespace', 'k8s.io', ...args]);
}

/** Imports an OCI archive (hack/build-image.sh) into the node's containerd, where pullPolicy Never finds it. */
export function importImage(dir: string, archive: string): void {
  execFileSync('ctr', ['--address', socketPath(dir), '--namespace', 'k8s.io', 'images', 'import', archive], {
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 300_000,
  });
}

function componentKubeconfig(dir: string, name: string, user: string, groups: string[], server: string): string {
  const path = join(dir, `${name}.kubeconfig`);
  writeKubeconfig(path, server, join(dir, 'ca.crt'), user, issueClientCert(dir, user, groups));
  return path;
}

export interface NodeOptions {
  /** The control plane's directory (certificates, pid files): the node's files go in `dir`/node. */
  dir: string;
  server: string;
  binDir: string;
  kubeconfig: string;
  network: NodeNetwork;
}

/** Node binaries (kubelet, kube-controller-manager, kube-scheduler, kube-proxy): built once, cached. */
export function nodeBinaries(): string {
  return execFileSync(join(REPO, 'hack/build-control-plane.sh'), ['node'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

export async function startNode(options: NodeOptions): Promise<void> {
  const { dir, server, binDir, network } = options;
  const nodeDir = join(dir, 'node');
  const nodeBin = nodeBinaries();
  const pauseArchive = execFileSync(join(REPO, 'hack/node/build-pause.sh'), { encoding: 'utf8' }).trim();
  const pauseImage = 'localhost/pause:k8s-v1.35.4';

  const cniConfDir = join(nodeDir, 'cni');
  mkdirSync(cniConfDir, { recursive: true });
  writeFileSync(join(cniConfDir, '10-dbwatch.conflist'), cniConfig(nodeDir, network));
  writeFileSync(join(nodeDir, 'containerd.toml'), containerdConfig(nodeDir, pauseImage, cniConfDir));
  launch(dir, 'containerd', 'containerd', ['--config', join(nodeDir, 'containerd.toml')], true);
  await waitFor(
    'containerd',
    dir,
    'containerd',
    async () => tryRun('ctr', ['--address', socketPath(nodeDir), 'version']) !== undefined,
  );
  importImage(nodeDir, pauseArchive);

  const kubeletPort = await freePort();
  writeFileSync(join(nodeDir, 'kubelet.json'), kubeletConfig(dir, nodeDir, kubeletPort, network));
  const kubeletKc = componentKubeconfig(dir, 'kubelet', `system:node:${NODE_NAME}`, ['system:nodes'], server);
  launch(
    dir,
    'kubelet',
    join(nodeBin, 'kubelet'),
    [
      `--config=${join(nodeDir, 'kubelet.json')}`,
      `--kubeconfig=${kubeletKc}`,
      `--container-runtime-endpoint=unix://${socketPath(nodeDir)}`,
      `--root-dir=${join(nodeDir, 'kubelet')}`,
      `--cert-dir=${join(nodeDir, 'kubelet-pki')}`,
      `--node-ip=${network.gateway}`,
      `--hostname-override=${NODE_NAME}`,
      '--v=1',
    ],
    true,
  );

  const cmKc = componentKubeconfig(dir, 'kube-controller-manager', 'system:kube-controller-manager', [], server);
  launch(
    dir,
    'kube-controller-manager',
    join(nodeBin, 'kube-controller-manager'),
    [
      `--kubeconfig=${cmKc}`,
      `--authentication-kubeconfig=${cmKc}`,
      `--authorization-kubeconfig=${cmKc}`,
      `--service-account-private-key-file=${join(dir, 'sa.key')}`,
      `--root-ca-file=${join(dir, 'ca.crt')}`,
      '--use-service-account-credentials=true',
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${await freePort()}`,
      `--cert-dir=${join(nodeDir, 'controller-manager-pki')}`,
      '--controllers=*,-nodeipam,-cloud-node-lifecycle',
    ],
    true,
  );
  const schedKc = componentKubeconfig(dir, 'kube-scheduler', 'system:kube-scheduler', [], server);
  launch(
    dir,
    'kube-scheduler',
    join(nodeBin, 'kube-scheduler'),
    [
      `--kubeconfig=${schedKc}`,
      `--authentication-kubeconfig=${schedKc}`,
      `--authorization-kubeconfig=${schedKc}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${await freePort()}`,
      `--cert-dir=${join(nodeDir, 'scheduler-pki')}`,
    ],
    true,
  );
  const proxyKc = componentKubeconfig(dir, 'kube-proxy', 'system:kube-proxy', [], server);
  writeFileSync(
    join(nodeDir, 'kube-proxy.json'),
    JSON.stringify({
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      mode: 'nftables',
      clientConnection: { kubeconfig: proxyKc },
      hostnameOverride: NODE_NAME,
      bindAddress: network.gateway,
      clusterCIDR: network.subnet,
      nodePortAddresses: [`${network.gateway}/32`],
      healthzBindAddress: `127.0.0.1:${await freePort()}`,
      metricsBindAddress: `127.0.0.1:${await freePort()}`,
      // Leave the host's conntrack sysctls alone.
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    }),
  );
  launch(dir, 'kube-proxy', join(nodeBin, 'kube-proxy'), [`--config=${join(nodeDir, 'kube-proxy.json')}`], true);

  const kubectl = join(binDir, 'kubectl');
  await waitFor(
    'node Ready',
    dir,
    'kubelet',
    async () =>
      tryRun(kubectl, [
        '--kubeconfig',
        options.kubeconfig,
        'get',
        'node',
        NODE_NAME,
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      ]) === 'True',
    120_000,
  );
  // Pods need their namespace's `default` ServiceAccount and the kube-root-ca.crt ConfigMap (controllers).
  await waitFor(
    'default ServiceAccount',
    dir,
    'kube-controller-manager',
    async () =>
      tryRun(kubectl, ['--kubeconfig', options.kubeconfig, 'get', 'sa', 'default', '-n', 'default']) !== undefined,
  );
}

const mountsUnder = (prefixes: string[]) =>
  readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((m): m is string => !!m && prefixes.some((p) => m === p || m.startsWith(`${p}/`)))
    .sort((a, b) => b.length - a.length);

/** Interfaces attached to the bridge: the host ends of Pods' veths. */
const bridgePorts = (network: NodeNetwork) =>
  (tryRun('ip', ['-o', 'link', 'show', 'master', network.bridge]) ?? '')
    .split('\n')
    .filter(Boolean)
    .map((l) => (l.split(':')[1] ?? '').trim().replace(/@.*$/, ''));

function removeCgroup(path: string): void {
  if (!existsSync(path)) return;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.isDirectory()) removeCgroup(join(path, entry.name));
  }
  tryRun('rmdir', [path]);
}

/**
 * Stops the node and removes what it created, in the order that leaves nothing: controller-manager
 * first (it would recreate Pods), Pods deleted through the CRI (so CNI removes their veths and
 * addresses), kube-proxy and its nftables table, kubelet, containerd, then mounts, cgroups, the bridge,
 * new nftables tables and host paths. Only when `dir`'s checkout owns the node: another checkout's
 * running node (its bridge, netns, tables) is never touched. Safe to run again and again.
 */
export async function stopNode(dir: string, binDir: string | undefined, network: NodeNetwork): Promise<void> {
  const nodeDir = join(dir, 'node');
  const recordFile = join(nodeDir, 'host-record.json');
  const record: HostRecord | undefined = existsSync(recordFile)
    ? JSON.parse(readFileSync(recordFile, 'utf8'))
    : undefined;
  // Another checkout's node (or none): nothing of the machine is ours to stop or remove.
  if (!ownsNode(dir)) return;
  await stopProcesses(dir, ['kube-controller-manager', 'kube-scheduler']);
  // Pods deleted while kubelet and containerd still run: their sandboxes stop through CNI DEL (veth, IPAM).
  const kubeconfig = join(dir, 'kubeconfig');
  if (binDir && existsSync(kubeconfig) && existsSync(socketPath(nodeDir))) {
    tryRun(join(binDir, 'kubectl'), [
      '--kubeconfig',
      kubeconfig,
      'delete',
      'pods',
      '--all',
      '--all-namespaces',
      '--grace-period=1',
      '--timeout=60s',
      '--request-timeout=10s',
    ]);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && bridgePorts(network).length > 0) await new Promise((ok) => setTimeout(ok, 250));
  }
  await stopProcesses(dir, ['kube-proxy', 'kubelet']);
  if (binDir && existsSync(join(binDir, 'kube-proxy'))) tryRun(join(binDir, 'kube-proxy'), ['--cleanup']);
  await stopProcesses(dir, ['containerd']);
  // Shims outlive containerd by design; ours are the ones whose address is under our state directory.
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.startsWith('/usr/bin/containerd-shim') && cmdline.includes(socketPath(nodeDir))) {
        process.kill(Number(pid), 'SIGKILL');
      }
    } catch {
      // gone already
    }
  }
  const newNetns = netnsEntries().filter((n) => !(record?.netns ?? []).includes(n) && n.startsWith('cni-'));
  for (const mount of mountsUnder([nodeDir, ...newNetns.map((n) => `/run/netns/${n}`), '/run/containerd'])) {
    tryRun('umount', [mount]) ?? tryRun('umount', ['-l', mount]);
  }
  for (const n of newNetns) rmSync(`/run/netns/${n}`, { force: true });
  for (const port of bridgePorts(network)) tryRun('ip', ['link', 'delete', port]);
  for (const cgroup of kubepodsCgroups().filter((c) => !(record?.cgroups ?? []).includes(c))) removeCgroup(cgroup);
  tryRun('ip', ['link', 'delete', network.bridge]);
  for (const table of nftTables().filter((t) => isNodeTable(t, record))) {
    tryRun('nft', ['delete', 'table', ...table.split(' ')]);
  }
  if (record) {
    for (const path of HOST_PATHS.filter((p) => !record.paths.includes(p)))
      rmSync(path, { recursive: true, force: true });
  }
  rmSync(nodeDir, { recursive: true, force: true });
  releaseNode(dir);
}

/** This checkout's processes (by its pid files) that still run. */
function ownProcesses(dir: string): string[] {
  const alive: string[] = [];
  for (const name of ['etcd', 'kube-apiserver', 'dbwatch-operator']) {
    try {
      const pid = Number(readFileSync(join(dir, `${name}.pid`), 'utf8'));
      process.kill(pid, 0);
      alive.push(`process ${pid} ${name}`);
    } catch {
      // no pid file, or not running
    }
  }
  return alive;
}

/**
 * Everything `stopNode` is meant to remove, as a list of what is still there (empty when clean). A checkout
 * that did not own the node answers for its own processes and directory only: the machine-wide things belong
 * to the checkout whose node runs.
 */
export function nodeLeftovers(dir: string, network: NodeNetwork, record?: HostRecord, owned = true): string[] {
  if (!owned) return [...ownProcesses(dir), ...(existsSync(dir) ? [`directory ${dir}`] : [])];
  const left: string[] = [];
  const names = ['containerd', 'containerd-shim', 'kubelet', 'kube-proxy', 'kube-controller-manager', 'kube-scheduler'];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
      if (names.some((n) => argv0.endsWith(`/${n}`) || argv0 === n || argv0.includes('containerd-shim')))
        left.push(`process ${pid} ${argv0}`);
    } catch {
      // gone
    }
  }
  left.push(...mountsUnder([dir, '/run/containerd']).map((m) => `mount ${m}`));
  if (tryRun('ip', ['link', 'show', network.bridge])) left.push(`interface ${network.bridge}`);
  left.push(
    ...(tryRun('ip', ['-o', 'link', 'show', 'type', 'veth']) ?? '')
      .split('\n')
      .filter(Boolean)
      .map((l) => `veth ${l.split(':')[1]?.trim()}`),
  );
  left.push(
    ...nftTables()
      .filter((t) => !(record?.nftTables ?? []).includes(t))
      .map((t) => `nftables table ${t}`),
  );
  left.push(...HOST_PATHS.filter((p) => existsSync(p) && !(record?.paths ?? []).includes(p)).map((p) => `path ${p}`));
  left.push(
    ...kubepodsCgroups()
      .filter((c) => !(record?.cgroups ?? []).includes(c))
      .map((c) => `cgroup ${c}`),
  );
  left.push(
    ...netnsEntries()
      .filter((n) => n.startsWith('cni-') && !(record?.netns ?? []).includes(n))
      .map((n) => `netns ${n}`),
  );
  if (existsSync(dir)) left.push(`directory ${dir}`);
  return left;
}

export type { HostRecord };
