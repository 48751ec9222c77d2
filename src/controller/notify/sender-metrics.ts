/** What the Alertmanager sender reports, per Alertmanager (the operator's metrics implement it). Imports nothing,
 * so the metrics module can name it without importing the notifier. */
export interface SenderMetrics {
  sent(alertmanager: string, count: number): void;
  postFailed(alertmanager: string): void;
  dropped(alertmanager: string, reason: 'queue_full' | 'rejected', count: number): void;
  queueLength(alertmanager: string, length: number): void;
}
