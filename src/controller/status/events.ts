import type { EventReason, TransitionEvents } from '../../api/index.js';

/** An Event the controller wants recorded; reasons come from the vocabulary in src/api/conditions.ts. */
export interface EventIntent {
  type: 'Normal' | 'Warning';
  reason: EventReason;
  message: string;
}

/** The longest Event message the recorder sends (and the status carries). */
export const EVENT_MESSAGE_LIMIT = 1024;

/**
 * The status to write for a pass, carrying the Events of its transition (status.transitionEvents) when there are
 * any: written with the status they describe, they are recorded from it even if the writer never learns that the
 * write succeeded. A pass without a transition carries none, so the next write clears them.
 */
export function withTransitionEvents<S extends { transitionEvents?: TransitionEvents }>(
  status: S,
  events: EventIntent[],
  now: Date,
): S {
  const { transitionEvents: _previous, ...rest } = status;
  if (events.length === 0) return rest as S;
  return {
    ...rest,
    transitionEvents: {
      at: now.toISOString(),
      events: events.map((e) => ({ ...e, message: e.message.slice(0, EVENT_MESSAGE_LIMIT) })),
    },
  } as S;
}
