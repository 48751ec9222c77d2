import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { load } from 'js-yaml';

export interface NamedCluster {
  name: string;
  cluster: Record<string, unknown>;
}
export interface NamedUser {
  name: string;
  user?: Record<string, unknown>;
}
export interface NamedContext {
  name: string;
  context: { cluster: string; user: string; namespace?: string };
}
export interface Kubeconfig {
  clusters?: NamedCluster[];
  users?: NamedUser[];
  contexts?: NamedContext[];
  'current-context'?: string;
}

/** The files that make up the kubeconfig, found as kubectl finds them (client-go's loading rules). */
export type KubeconfigLocation =
  | { kind: 'files'; paths: string[]; skipped: string[] }
  | { kind: 'none'; skipped: string[] };

/**
 * An explicit path (--kubeconfig) must exist. Otherwise $KUBECONFIG's entries (duplicates dropped), of which
 * those that do not exist are skipped as kubectl skips them; without $KUBECONFIG, ~/.kube/config if it
 * exists. `none` when nothing is left: the caller falls back to the in-cluster service account.
 */
export function locateKubeconfig(explicit: string | undefined, env: NodeJS.ProcessEnv): KubeconfigLocation {
  if (explicit) {
    // A path list is accepted (as $KUBECONFIG), but each named file must exist: reading it fails with ENOENT.
    return { kind: 'files', paths: explicit.split(delimiter).filter(Boolean), skipped: [] };
  }
  const listed = [...new Set((env.KUBECONFIG ?? '').split(delimiter).filter(Boolean))];
  const candidates = listed.length > 0 ? listed : [join(env.HOME || homedir(), '.kube', 'config')];
  const paths = candidates.filter((p) => existsSync(p));
  const skipped = listed.filter((p) => !paths.includes(p));
  return paths.length > 0 ? { kind: 'files', paths, skipped } : { kind: 'none', skipped };
}

/** One file, with relative file references made absolute against the file's own directory. */
export function readKubeconfig(path: string): Kubeconfig {
  const parsed = load(readFileSync(path, 'utf8')) as Kubeconfig | null;
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object') throw new Error(`${path} is not a kubeconfig`);
  const base = dirname(path);
  const absolute = (entry: Record<string, unknown> | undefined, ...keys: string[]) => {
    for (const key of keys) {
      const value = entry?.[key];
      if (typeof value === 'string' && value && !isAbsolute(value)) entry![key] = join(base, value);
    }
  };
  for (const c of parsed.clusters ?? []) absolute(c.cluster, 'certificate-authority');
  for (const u of parsed.users ?? []) {
    absolute(u.user, 'client-certificate', 'client-key', 'tokenFile');
    // An exec command with a path separator is relative to the kubeconfig; a bare name is looked up on PATH.
    const exec = u.user?.exec as { command?: unknown } | undefined;
    if (typeof exec?.command === 'string' && exec.command.includes('/')) absolute(exec, 'command');
  }
  return parsed;
}

/** Merges like kubectl: the first file to set a name (or current-context) wins. */
export function mergeKubeconfigs(files: Kubeconfig[]): Kubeconfig {
  const firstByName = <T extends { name: string }>(lists: (T[] | undefined)[]) => {
    const seen = new Map<string, T>();
    for (const item of lists.flatMap((l) => l ?? [])) if (!seen.has(item.name)) seen.set(item.name, item);
    return [...seen.values()];
  };
  return {
    clusters: firstByName(files.map((f) => f.clusters)),
    users: firstByName(files.map((f) => f.users)),
    contexts: firstByName(files.map((f) => f.contexts)),
    'current-context': files.find((f) => f['current-context'])?.['current-context'],
  };
}
