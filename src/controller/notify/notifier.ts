import type { MonitorObject } from '../types.js';
import type { AlertSender } from './alert-sender.js';
import { activeAlert, alertKey, DIRECT_ALERTS, type DirectAlert, firingAlert, monitorAlerts } from './direct-alerts.js';

export interface NotifierOptions {
  /** One per Alertmanager: each gets every alert (Alertmanagers in a cluster deduplicate among themselves). */
  senders: AlertSender[];
  /** The monitors this replica owns now, as its cache holds them: all while it leads, none while it stands by. */
  monitors: () => readonly MonitorObject[];
  resendIntervalMs: number;
  /** endsAt of firing alerts is now + this; resolves are posted for this long after a monitor's transition. */
  resolveTimeoutMs: number;
  /** How long a status change waits for others to join it in one pass. */
  changeDelayMs?: number;
  /** The senders' queue capacity: a resend that does not fit starts further down the list next time. */
  capacity?: number;
  now?: () => Date;
}

/** What a pass queues: what changed since the last pass; every firing alert and recent resolve; or all. */
type PassKind = 'changes' | 'resend' | 'everything';

/**
 * Level-triggered notifications: every resend interval, every alert the owned monitors' status calls for —
 * firing ones and the resolves of the last resolve timeout — is queued again (Alertmanager deduplicates equal
 * label sets and merges overlapping ones), so nothing depends on what this process sent before: a restarted or
 * new owner sends the same. Between resends, a status change sends what changed within `changeDelayMs`;
 * `queued` (what was last queued, per alert) only decides what changed, never what is true.
 *
 * A firing monitor's resolves of its other alert kinds (its kind changed, e.g. degraded → down) go out with the
 * change and when this replica starts owning the monitors, not with every resend: at 10,000 failing monitors
 * that would triple each resend. Missed, such an alert still ends by its own endsAt.
 */
export class Notifier {
  private queued = new Map<string, string>();
  private resendTimer: NodeJS.Timeout | undefined;
  private changeTimer: NodeJS.Timeout | undefined;
  /** The next moment a held alert (degraded: 10 min) starts firing: no status change announces it. */
  private holdTimer: NodeJS.Timeout | undefined;
  private readonly now: () => Date;
  private resends = 0;

  constructor(private readonly options: NotifierOptions) {
    this.now = options.now ?? (() => new Date());
  }

  start(): void {
    this.resendTimer ??= setInterval(() => this.pass('resend'), this.options.resendIntervalMs);
    this.resendTimer.unref();
  }

  /** Queues every alert the owned monitors call for now: call it when this replica starts owning monitors. */
  resendAll(): void {
    this.pass('everything');
  }

  /** A monitor's status changed: send what changed, after a short wait that gathers a burst into one pass. */
  changed(): void {
    this.changeTimer ??= setTimeout(() => {
      this.changeTimer = undefined;
      this.pass('changes');
    }, this.options.changeDelayMs ?? 1000);
    this.changeTimer.unref();
  }

  /** An owned monitor was deleted: resolve what it fired now rather than when its endsAt runs out. */
  deleted(monitor: MonitorObject): void {
    const now = this.now();
    const firing = firingAlert(monitor.status, now);
    const resolve = monitorAlerts(monitor, now, 0).filter((a) => a.alertname === firing?.alertname);
    this.send(resolve.map((a): DirectAlert => ({ ...a, endsAt: now.toISOString() })));
  }

  private pass(kind: PassKind): void {
    const now = this.now();
    const next = new Map<string, string>();
    const changed: DirectAlert[] = [];
    let nextFiring = Number.POSITIVE_INFINITY;
    const monitors = this.options.monitors();
    // More alerts than a queue holds: each resend starts where the last one's queue ran full, so every alert
    // is posted at least every ceil(alerts / capacity) resends instead of the same tail never.
    const stride = Math.max(1, Math.floor((this.options.capacity ?? 0) / DIRECT_ALERTS.length));
    const rotate = kind !== 'changes' && this.options.capacity !== undefined && monitors.length > 0;
    const start = rotate ? (this.resends++ * stride) % monitors.length : 0;
    for (let i = 0; i < monitors.length; i++) {
      const monitor = monitors[(start + i) % monitors.length]!;
      const active = activeAlert(monitor.status);
      if (active && active.firesAt > now.getTime()) nextFiring = Math.min(nextFiring, active.firesAt);
      const alerts = monitorAlerts(monitor, now, this.options.resolveTimeoutMs);
      const firing = alerts.some((a) => a.endsAt === undefined);
      for (const alert of alerts) {
        const key = alertKey(alert);
        const state = `${alert.startsAt}|${alert.endsAt ?? 'firing'}`;
        next.set(key, state);
        const wanted =
          kind === 'everything' ||
          (kind === 'resend' && (alert.endsAt === undefined || !firing)) ||
          this.queued.get(key) !== state;
        if (wanted) changed.push(alert);
      }
    }
    this.queued = next;
    this.send(changed);
    clearTimeout(this.holdTimer);
    if (Number.isFinite(nextFiring)) {
      this.holdTimer = setTimeout(() => this.pass('changes'), nextFiring - now.getTime() + 1);
      this.holdTimer.unref();
    }
  }

  private send(alerts: DirectAlert[]): void {
    for (const sender of this.options.senders) sender.enqueue(alerts);
  }

  async stop(): Promise<void> {
    clearInterval(this.resendTimer);
    clearTimeout(this.changeTimer);
    clearTimeout(this.holdTimer);
    await Promise.all(this.options.senders.map((s) => s.stop()));
  }
}
