import { createHash } from 'node:crypto';
import { statusCodeOf } from './api-errors.js';
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
/** How long kube-apiserver keeps an Event (its --event-ttl, 1 h by default). */
export const EVENT_TTL_MS = 60 * 60_000;
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
    return this.take(object, event) !== undefined;
  }

  /** Admits the event and takes its token; resolves to the undo (the send failed), or undefined when refused. */
  private take(object: InvolvedObject, event: EventToRecord): (() => void) | undefined {
    const now = this.now();
    // Messages carry figures, so keys keep coming: drop the expired ones now and then.
    if (++this.admitted % 500 === 0) this.sweep(now);
    const objectKey = object.uid ?? `${object.namespace}/${object.name}`;
    const key = `${objectKey}|${event.reason}|${event.message}`;
    const last = this.lastSent.get(key);
    if (last !== undefined && now - last < REPEAT_WINDOW_MS) return undefined;
    const bucket = this.buckets.get(objectKey) ?? { tokens: BURST, at: now };
    const refills = Math.floor((now - bucket.at) / REFILL_MS);
    if (refills > 0) {
      bucket.tokens = Math.min(BURST, bucket.tokens + refills);
      bucket.at += refills * REFILL_MS;
    }
    this.buckets.set(objectKey, bucket);
    if (bucket.tokens < 1) return undefined;
    bucket.tokens--;
    this.lastSent.set(key, now);
    return () => {
      if (this.lastSent.get(key) === now) this.lastSent.delete(key);
      bucket.tokens = Math.min(BURST, bucket.tokens + 1);
    };
  }

  /**
   * Sends the event unless the spam filter refuses it. `once`: the Event is named from the object and `once.id`,
   * so recording the same id again — here or on another replica — answers AlreadyExists and adds nothing; its
   * timestamps are `once.at`, when it happened. A send that fails is forgotten by the filter, so it can be retried.
   */
  async record(object: InvolvedObject, event: EventToRecord, once?: { id: string; at: Date }): Promise<void> {
    const undo = this.take(object, event);
    if (!undo) return;
    const timestamp = once?.at ?? new Date(this.now());
    const metadata = once
      ? { name: eventName(object, once.id), namespace: object.namespace }
      : { generateName: `${object.name}.`, namespace: object.namespace };
    try {
      await this.clients.core.createNamespacedEvent({
        namespace: object.namespace,
        body: {
          metadata,
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
      if (once && statusCodeOf(error) === 409) return; // recorded before, by this replica or another
      undo();
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

/** `<object>.<16 hex digits>`: the same object (by uid) and id always give the same name, within 253 characters. */
function eventName(object: InvolvedObject, id: string): string {
  const digest = createHash('sha256').update(`${object.uid ?? `${object.namespace}/${object.name}`}\u0000${id}`);
  return `${object.name.slice(0, 236)}.${digest.digest('hex').slice(0, 16)}`;
}
