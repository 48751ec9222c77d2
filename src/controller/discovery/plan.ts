import { DiscoveryReason, databaseMonitorSpecSchema } from '../../api/index.js';
import {
  type DesiredMonitor,
  type DiscoveryRef,
  isOwnedBy,
  type OwnerReference,
  type Problem,
  sourceLabel,
} from './desired.js';

/** A DatabaseMonitor as the operator's cache holds it. */
export interface ExistingMonitor {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
  };
  spec?: unknown;
}

export interface Plan {
  create: DesiredMonitor[];
  update: { desired: DesiredMonitor; existing: ExistingMonitor }[];
  remove: ExistingMonitor[];
  /** Desired monitors that exist as wanted (no write). */
  unchanged: number;
  /** Waiting sources without a monitor, and name clashes. */
  problems: Problem[];
  waiting: number;
  clashes: number;
}

/** JSON with sorted keys: two specs are equal when they say the same, whatever the order of their fields. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const entries = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** Cached specs are replaced, never changed, on update: their canonical text is kept per object. */
const storedText = new WeakMap<object, string>();

/** The stored spec with the schema's defaults, as the desired one is built (an invalid one never compares equal). */
function storedSpecText(spec: unknown): string {
  if (spec === null || typeof spec !== 'object') return canonical(spec);
  let text = storedText.get(spec);
  if (text === undefined) {
    const parsed = databaseMonitorSpecSchema.safeParse(spec);
    text = canonical(parsed.success ? parsed.data : spec);
    storedText.set(spec, text);
  }
  return text;
}

const contains = (have: Record<string, string> | undefined, want: Record<string, string>) =>
  Object.entries(want).every(([k, v]) => have?.[k] === v);

const ownerKey = (r: OwnerReference) => `${r.apiVersion}|${r.kind}|${r.name}|${r.uid}|${r.controller === true}`;
const sameOwners = (have: OwnerReference[] | undefined, want: OwnerReference[]) =>
  canonical((have ?? []).map(ownerKey).sort()) === canonical(want.map(ownerKey).sort());

/** Whether a monitor already is as desired: then nothing is written (no write storm on a resync). */
export function upToDate(existing: ExistingMonitor, desired: DesiredMonitor): boolean {
  const meta = existing.metadata;
  return (
    contains(meta?.labels, desired.labels) &&
    contains(meta?.annotations, desired.annotations) &&
    sameOwners(meta?.ownerReferences, desired.ownerReferences) &&
    storedSpecText(existing.spec) === canonical(desired.spec)
  );
}

/**
 * Pure: what to write so that exactly the desired monitors exist. A name taken by a monitor this discovery did
 * not create is a clash (never overwritten); owned monitors no longer desired are removed unless `keep` says
 * their source cannot be seen right now.
 */
export function planMonitors(input: {
  owner: DiscoveryRef;
  desired: DesiredMonitor[];
  /** Any monitor by namespace and name (the cache). */
  lookup: (namespace: string, name: string) => ExistingMonitor | undefined;
  /** Every monitor labelled as this discovery's. */
  owned: ExistingMonitor[];
  keep: (monitor: ExistingMonitor) => boolean;
}): Plan {
  const plan: Plan = { create: [], update: [], remove: [], unchanged: 0, problems: [], waiting: 0, clashes: 0 };
  const wanted = new Set<string>();
  for (const desired of input.desired) {
    const existing = input.lookup(desired.namespace, desired.name);
    if (existing && !isOwnedBy(existing.metadata?.labels, input.owner)) {
      plan.clashes++;
      plan.problems.push({
        source: sourceLabel(desired.source),
        monitor: desired.name,
        reason: DiscoveryReason.NameClash,
        message: `a DatabaseMonitor ${desired.namespace}/${desired.name} exists that this discovery did not create; it is left alone (rename it, or set the source's name)`,
      });
      continue;
    }
    wanted.add(`${desired.namespace}/${desired.name}`);
    if (!existing) {
      if (desired.waiting) {
        plan.waiting++;
        plan.problems.push({
          source: sourceLabel(desired.source),
          monitor: desired.name,
          reason: desired.waiting.reason,
          message: desired.waiting.message,
        });
      } else plan.create.push(desired);
    } else if (upToDate(existing, desired)) plan.unchanged++;
    // A source that is not ready any more (failover, upgrade) keeps its monitor: that is when it is needed.
    else plan.update.push({ desired, existing });
  }
  for (const monitor of input.owned) {
    const key = `${monitor.metadata?.namespace}/${monitor.metadata?.name}`;
    if (!wanted.has(key) && !input.keep(monitor)) plan.remove.push(monitor);
  }
  return plan;
}
