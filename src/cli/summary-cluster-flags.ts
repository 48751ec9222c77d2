import { Option } from 'commander';
import type { ClusterScope } from './summary-cluster-source.js';

/** The kubectl-style flags that choose what `summary --cluster` reads; shared by dbwatch and kubectl-dbwatch. */
export const clusterScopeOptions = () => [
  new Option('-n, --namespace <namespace>', "namespace to summarize (default: the kubeconfig context's, else default)"),
  new Option('-A, --all-namespaces', 'summarize every namespace (needs list on both resources cluster-wide)'),
  new Option('-l, --selector <selector>', 'label selector, e.g. team=payments or tier in (gold,silver)'),
  new Option('--kubeconfig <path>', 'kubeconfig file (default: KUBECONFIG, ~/.kube/config, or in-cluster)'),
  new Option('--context <name>', 'kubeconfig context to use (default: the current context)'),
];

export interface SummaryFlags {
  filename?: string[];
  cluster?: boolean;
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  kubeconfig?: string;
  context?: string;
}

export type ParsedSummaryFlags =
  | { ok: true; source: 'files'; files: string[] }
  | { ok: true; source: 'cluster'; scope: ClusterScope }
  | { ok: false; message: string };

const CLUSTER_ONLY = [
  ['namespace', '-n'],
  ['allNamespaces', '-A'],
  ['selector', '-l'],
  ['kubeconfig', '--kubeconfig'],
  ['context', '--context'],
] as const;

/** Pure: which summary the flags ask for, or why they contradict each other (exit 3, nothing is read). */
export function parseSummaryFlags(flags: SummaryFlags): ParsedSummaryFlags {
  const files = flags.filename ?? [];
  if (flags.cluster && files.length > 0) {
    return {
      ok: false,
      message: '-f and --cluster cannot be used together: -f runs checks from files, --cluster reads the cluster',
    };
  }
  if (!flags.cluster) {
    const misplaced = CLUSTER_ONLY.filter(([key]) => flags[key] !== undefined).map(([, flag]) => flag);
    if (misplaced.length > 0) {
      return {
        ok: false,
        message: `${misplaced.join(', ')} ${misplaced.length === 1 ? 'requires' : 'require'} --cluster`,
      };
    }
    if (files.length === 0) return { ok: false, message: 'give -f FILE (run checks from manifests) or --cluster' };
    return { ok: true, source: 'files', files };
  }
  if (flags.namespace !== undefined && flags.allNamespaces) {
    return { ok: false, message: '-n and -A cannot be used together: choose one namespace or all of them' };
  }
  if (flags.namespace === '') return { ok: false, message: '-n needs a namespace name' };
  return {
    ok: true,
    source: 'cluster',
    scope: {
      allNamespaces: flags.allNamespaces === true,
      ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
      ...(flags.selector !== undefined ? { selector: flags.selector } : {}),
      ...(flags.kubeconfig !== undefined ? { kubeconfig: flags.kubeconfig } : {}),
      ...(flags.context !== undefined ? { context: flags.context } : {}),
    },
  };
}
