import type { Condition } from '../api/index.js';

export type ConditionInput = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

/**
 * Sets conditions by type. lastTransitionTime changes only when status flips, as the Kubernetes API
 * conventions require; reason and message follow the latest observation.
 */
export function setConditions(
  existing: Condition[] | undefined,
  updates: ConditionInput[],
  generation: number,
  now: Date,
): Condition[] {
  const byType = new Map((existing ?? []).map((c) => [c.type, c]));
  for (const update of updates) {
    const previous = byType.get(update.type);
    byType.set(update.type, {
      ...update,
      message: update.message.slice(0, 32_000),
      lastTransitionTime:
        previous && previous.status === update.status ? previous.lastTransitionTime : now.toISOString(),
      observedGeneration: generation,
    });
  }
  return [...byType.values()];
}

export const findCondition = (conditions: Condition[] | undefined, type: string) =>
  conditions?.find((c) => c.type === type);
