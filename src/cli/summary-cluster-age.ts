/** Durations as kubectl prints ages (apimachinery's duration.HumanDuration): 45s, 3m20s, 25m, 5h10m, 3d4h. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  const part = (whole: string, rest: number, unit: string) => (rest === 0 ? whole : `${whole}${rest}${unit}`);
  if (minutes < 10) return part(`${minutes}m`, seconds % 60, 's');
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return part(`${hours}h`, minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return part(`${Math.floor(hours / 24)}d`, hours % 24, 'h');
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** The age of an ISO timestamp at `now`, or '-' when there is none. */
export const ageOf = (iso: string | undefined, now: Date) =>
  iso === undefined || Number.isNaN(Date.parse(iso)) ? '-' : humanDuration(now.getTime() - Date.parse(iso));
