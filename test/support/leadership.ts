/** One change of leadership of a test replica, by wall clock. */
export interface LeadershipChange {
  at: number;
  who: string;
  leading: boolean;
}

/** LeaderElector callbacks that keep `state.leading` and append each change to `timeline`. */
export function recordLeadership(timeline: LeadershipChange[], who: string, state: { leading: boolean }) {
  const change = (leading: boolean) => () => {
    state.leading = leading;
    timeline.push({ at: Date.now(), who, leading });
  };
  return { onStartedLeading: change(true), onStoppedLeading: change(false) };
}

/** The most leaders at any moment, replaying the recorded changes: 1 proves there were never two. */
export function maxLeaders(timeline: LeadershipChange[]): number {
  const leading = new Set<string>();
  let most = 0;
  for (const change of timeline) {
    if (change.leading) leading.add(change.who);
    else leading.delete(change.who);
    most = Math.max(most, leading.size);
  }
  return most;
}
