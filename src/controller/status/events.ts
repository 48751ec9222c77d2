import type { EventReason } from '../../api/index.js';

/** An Event the controller wants recorded; reasons come from the vocabulary in src/api/conditions.ts. */
export interface EventIntent {
  type: 'Normal' | 'Warning';
  reason: EventReason;
  message: string;
}
