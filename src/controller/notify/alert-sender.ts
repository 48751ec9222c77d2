import type { Logger } from 'pino';
import { ExponentialBackoff, withJitter } from '../runtime/backoff.js';
import { AlertQueue } from './alert-queue.js';
import { PostFailed } from './alertmanager-client.js';
import { type DirectAlert, type PostableAlert, toPostable } from './direct-alerts.js';
import type { SenderMetrics } from './sender-metrics.js';

export type { SenderMetrics };

export interface AlertPoster {
  readonly url: string;
  post(alerts: PostableAlert[], signal?: AbortSignal): Promise<void>;
  close(): void;
}

export interface SenderOptions {
  capacity: number;
  batchSize: number;
  /** A firing alert is posted with endsAt = now + this: it resolves by itself unless posted again in time. */
  resolveTimeoutMs: number;
  extraLabels: Readonly<Record<string, string>>;
  metrics: SenderMetrics;
  log: Logger;
  now?: () => Date;
  /** Retry delay after a failed post: doubling from baseMs to maxMs (±10 %). */
  backoff?: { baseMs: number; maxMs: number };
}

/**
 * Drains one Alertmanager's queue, a batch per POST, one POST at a time. A failed post puts its batch back and
 * waits (1 s doubling to 30 s) before the next; a rejected one (HTTP 4xx) is dropped and counted. Firing
 * alerts get their endsAt when they are sent, not when they were queued.
 */
export class AlertSender {
  private readonly queue: AlertQueue;
  private readonly backoff: ExponentialBackoff;
  private readonly abort = new AbortController();
  private draining: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly poster: AlertPoster,
    private readonly options: SenderOptions,
  ) {
    this.queue = new AlertQueue(options.capacity);
    this.backoff = new ExponentialBackoff(options.backoff?.baseMs ?? 1000, options.backoff?.maxMs ?? 30_000);
  }

  get url(): string {
    return this.poster.url;
  }

  get queued(): number {
    return this.queue.size;
  }

  enqueue(alerts: readonly DirectAlert[]): void {
    if (this.stopped || alerts.length === 0) return;
    const dropped = this.queue.push(alerts);
    if (dropped > 0) this.options.metrics.dropped(this.url, 'queue_full', dropped);
    this.options.metrics.queueLength(this.url, this.queue.size);
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    const { metrics, log } = this.options;
    const now = this.options.now ?? (() => new Date());
    while (!this.stopped && this.queue.size > 0) {
      const batch = this.queue.take(this.options.batchSize);
      const firingEndsAt = new Date(now().getTime() + this.options.resolveTimeoutMs).toISOString();
      try {
        await this.poster.post(
          batch.map((a) => toPostable(a, this.options.extraLabels, firingEndsAt)),
          this.abort.signal,
        );
        this.backoff.forget(this.url);
        metrics.sent(this.url, batch.length);
      } catch (error) {
        if (this.stopped) break;
        metrics.postFailed(this.url);
        const message = (error as Error).message;
        if (error instanceof PostFailed && !error.retry) {
          metrics.dropped(this.url, 'rejected', batch.length);
          log.error({ alertmanager: this.url, error: message, alerts: batch.length }, 'Alertmanager rejected alerts');
          continue;
        }
        const lost = this.queue.putBack(batch);
        if (lost > 0) metrics.dropped(this.url, 'queue_full', lost);
        const retryInMs = withJitter(this.backoff.next(this.url));
        log.warn({ alertmanager: this.url, error: message, retryInMs }, 'posting alerts failed; retrying');
        await sleep(retryInMs, this.abort.signal);
      } finally {
        metrics.queueLength(this.url, this.queue.size);
      }
    }
  }

  /** Cancels the post in flight and forgets the queue: whoever owns the monitors next posts them again. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.draining;
    this.queue.clear();
    this.options.metrics.queueLength(this.url, 0);
    this.poster.close();
  }
}

/** Waits `ms`, or less when the signal aborts; leaves no listener behind either way. */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((done) => {
    if (signal.aborted) return done();
    const onAbort = () => {
      clearTimeout(timer);
      done();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      done();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
