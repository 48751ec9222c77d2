import type { KubeClients } from './client.js';

/** A core/v1 Event to record about an object (the controller's EventIntent fits it). */
export interface EventToRecord {
  type: 'Normal' | 'Warning';
  /** CamelCase. */
  reason: string;
  message: string;
}

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid?: string;
  resourceVersion?: string;
}

const REPEAT_WINDOW_MS = 10 * 60_000;
const BURST = 25;
const REFILL_MS = 5 * 60_000;

/**
 * core/v1 Events with the spam protection client-go gives Go controllers and Node lacks: the same
 * reason and message for an object is sent once per 10 min, and each object has a bucket of 25 events
 * refilled at one per 5 min, so a flapping database cannot flood the API server.
 */
export class EventRecorder {
  private readonly lastSent = new Map<string, number>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly clients: KubeClients,
    private readonly instance: string,
    private readonly onError: (error: unknown) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  private admitted = 0;

  /** Decides whether an event may be sent now (exposed for tests). */
  admit(object: InvolvedObject, event: EventToRecord): boolean {
    const now = this.now();
    // Messages carry figures, so keys keep coming: drop the expired ones now and then.
    if (++this.admitted % 500 === 0) this.sweep(now);
    const objectKey = object.uid ?? `${object.namespace}/${object.name}`;
    const key = `${objectKey}|${event.reason}|${event.message}`;
    const last = this.lastSent.get(key);
    if (last !== undefined && now - last < REPEAT_WINDOW_MS) return false;
    const bucket = this.buckets.get(objectKey) ?? { tokens: BURST, at: now };
    const refills = Math.floor((now - bucket.at) / REFILL_MS);
    if (refills > 0) {
      bucket.tokens = Math.min(BURST, bucket.tokens + refills);
      bucket.at += refills * REFILL_MS;
    }
    this.buckets.set(objectKey, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens--;
    this.lastSent.set(key, now);
    return true;
  }

  async record(object: InvolvedObject, event: EventToRecord): Promise<void> {
    if (!this.admit(object, event)) return;
    const timestamp = new Date(this.now());
    try {
      await this.clients.core.createNamespacedEvent({
        namespace: object.namespace,
        body: {
          metadata: { generateName: `${object.name}.`, namespace: object.namespace },
          involvedObject: object,
          reason: event.reason,
          message: event.message.slice(0, 1024),
          type: event.type,
          count: 1,
          firstTimestamp: timestamp,
          lastTimestamp: timestamp,
          source: { component: 'dbwatch' },
          reportingComponent: 'dbwatch.dev/operator',
          reportingInstance: this.instance,
        },
      });
    } catch (error) {
      this.onError(error);
    }
  }

  private sweep(now: number): void {
    for (const [key, at] of this.lastSent) if (now - at >= REPEAT_WINDOW_MS) this.lastSent.delete(key);
    for (const [key, bucket] of this.buckets) if (now - bucket.at >= BURST * REFILL_MS) this.buckets.delete(key);
  }

  get trackedKeys(): number {
    return this.lastSent.size;
  }
}
