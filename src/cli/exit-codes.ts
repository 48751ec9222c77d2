/**
 * Every dbwatch command: 0 healthy/passed, 1 degraded/warning (or nothing current to vouch for), 2 unhealthy/failed
 * — the summary's verdict (src/checks/summary.ts EXIT_CODE) — and 3 when nothing could be run or read: invalid
 * input or settings, no kubeconfig, an unreadable cluster, the operator's metrics port taken.
 */
export const EXIT = { ok: 0, degraded: 1, unhealthy: 2, invalidInput: 3 } as const;
