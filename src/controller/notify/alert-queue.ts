import { alertKey, type DirectAlert } from './direct-alerts.js';

/**
 * Alerts waiting to be posted to one Alertmanager, at most one per alert identity: a newer state of an alert
 * replaces the queued one in place, so however long Alertmanager is away the queue holds at most one entry per
 * alert that exists — and never more than `capacity`; what does not fit is dropped and counted (the next
 * resend computes it again from the monitors' status, so a drop delays an alert, it does not lose it).
 */
export class AlertQueue {
  private readonly items = new Map<string, DirectAlert>();

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new Error(`queue capacity must be at least 1 (got ${capacity})`);
  }

  get size(): number {
    return this.items.size;
  }

  /** Queues each alert (newest wins per identity); returns how many were dropped because the queue is full. */
  push(alerts: readonly DirectAlert[]): number {
    let dropped = 0;
    for (const alert of alerts) {
      const key = alertKey(alert);
      if (this.items.has(key) || this.items.size < this.capacity) this.items.set(key, alert);
      else dropped++;
    }
    return dropped;
  }

  /** Removes and returns up to `max` alerts, oldest first. */
  take(max: number): DirectAlert[] {
    const batch: DirectAlert[] = [];
    for (const [key, alert] of this.items) {
      if (batch.length >= max) break;
      batch.push(alert);
      this.items.delete(key);
    }
    return batch;
  }

  /**
   * Puts back a batch whose post failed, except alerts a newer state replaced meanwhile (posting the old one
   * after it could reopen a resolved alert). Returns how many did not fit.
   */
  putBack(alerts: readonly DirectAlert[]): number {
    return this.push(alerts.filter((a) => !this.items.has(alertKey(a))));
  }

  clear(): void {
    this.items.clear();
  }
}
