import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // Linux USER_HZ

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/** Samples a process's RSS every second; `window()` gives CPU cores used and the RSS peak since the last call. */
export class ProcessSampler {
  private peak = 0;
  private cpuAt = 0;
  private wallAt = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.reset();
    this.timer = setInterval(() => {
      try {
        this.peak = Math.max(this.peak, rssMiB(pid));
      } catch {
        // The process has exited; the caller notices.
      }
    }, 1000);
    this.timer.unref();
  }

  reset(): void {
    this.peak = rssMiB(this.pid);
    this.cpuAt = cpuSeconds(this.pid);
    this.wallAt = performance.now();
  }

  window(): { cores: number; rssPeakMiB: number; rssNowMiB: number } {
    const cores = (cpuSeconds(this.pid) - this.cpuAt) / ((performance.now() - this.wallAt) / 1000);
    const result = { cores, rssPeakMiB: Math.max(this.peak, rssMiB(this.pid)), rssNowMiB: rssMiB(this.pid) };
    this.reset();
    return result;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
