import type { MonitorObject } from '../types.js';
import type { AlertSender } from './alert-sender.js';
import { alertKey, type DirectAlert, firingAlert, monitorAlerts } from './direct-alerts.js';

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
  now?: () => Date;
}

/**
 * Level-triggered notifications: every resend interval, every alert the owned monitors' status calls for —
 * firing ones and the resolves of the last resolve timeout — is queued again (Alertmanager deduplicates equal
 * label sets and merges overlapping ones), so nothing depends on what this process sent before: a restarted or
 * new owner sends the same. Between resends, a status change sends what changed within `changeDelayMs`;
 * `queued` (what was last queued, per alert) only decides what changed, never what is true.
 */
export class Notifier {
  private queued = new Map<string, string>();
  private resendTimer: NodeJS.Timeout | undefined;
  private changeTimer: NodeJS.Timeout | undefined;
  private readonly now: () => Date;

  constructor(private readonly options: NotifierOptions) {
    this.now = options.now ?? (() => new Date());
  }

  start(): void {
    this.resendTimer ??= setInterval(() => this.resendAll(), this.options.resendIntervalMs);
    this.resendTimer.unref();
  }

  /** Queues every alert the owned monitors call for now (also when this replica starts owning monitors). */
  resendAll(): void {
    this.pass(true);
  }

  /** A monitor's status changed: send what changed, after a short wait that gathers a burst into one pass. */
  changed(): void {
    this.changeTimer ??= setTimeout(() => {
      this.changeTimer = undefined;
      this.pass(false);
    }, this.options.changeDelayMs ?? 1000);
    this.changeTimer.unref();
  }

  /** An owned monitor was deleted: resolve what it fired now rather than when its endsAt runs out. */
  deleted(monitor: MonitorObject): void {
    const firing = firingAlert(monitor.status);
    const resolve = monitorAlerts(monitor, this.now(), 0).filter((a) => a.alertname === firing?.alertname);
    this.send(resolve.map((a): DirectAlert => ({ ...a, endsAt: this.now().toISOString() })));
  }

  private pass(all: boolean): void {
    const now = this.now();
    const next = new Map<string, string>();
    const changed: DirectAlert[] = [];
    for (const monitor of this.options.monitors()) {
      for (const alert of monitorAlerts(monitor, now, this.options.resolveTimeoutMs)) {
        const key = alertKey(alert);
        const state = `${alert.startsAt}|${alert.endsAt ?? 'firing'}`;
        next.set(key, state);
        if (all || this.queued.get(key) !== state) changed.push(alert);
      }
    }
    this.queued = next;
    this.send(changed);
  }

  private send(alerts: DirectAlert[]): void {
    for (const sender of this.options.senders) sender.enqueue(alerts);
  }

  async stop(): Promise<void> {
    clearInterval(this.resendTimer);
    clearTimeout(this.changeTimer);
    await Promise.all(this.options.senders.map((s) => s.stop()));
  }
}
