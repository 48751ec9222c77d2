import { ConditionType } from '../../api/index.js';
import type { PrerequisiteObject } from '../types.js';

export interface GateState {
  ready: boolean;
  message: string;
}

/** Pure: may the workload start? Only when Ready=True for the current generation. */
export function gateState(obj: PrerequisiteObject | undefined, name: string): GateState {
  if (!obj) return { ready: false, message: `DatabasePrerequisite ${name} does not exist (yet)` };
  const generation = obj.metadata?.generation;
  const status = obj.status;
  if (!status || status.observedGeneration !== generation) {
    return {
      ready: false,
      message: `DatabasePrerequisite ${name} generation ${generation} has not been evaluated yet`,
    };
  }
  const ready = status.conditions?.find((c) => c.type === ConditionType.Ready);
  if (ready?.status === 'True') return { ready: true, message: ready.message };
  return { ready: false, message: ready ? `${ready.reason}: ${ready.message}` : 'no Ready condition yet' };
}
