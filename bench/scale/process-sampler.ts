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
  private peakAt = 0;
  private cpuAt = 0;
  private wallAt = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.reset();
    this.timer = setInterval(() => {
      try {
        const rss = rssMiB(pid);
        if (rss > this.peak) {
          this.peak = rss;
          this.peakAt = Date.now();
        }
      } catch {
        // The process has exited; the caller notices.
      }
    }, 1000);
    this.timer.unref();
  }

  reset(): void {
    this.peak = rssMiB(this.pid);
    this.peakAt = Date.now();
    this.cpuAt = cpuSeconds(this.pid);
    this.wallAt = performance.now();
  }

  /** `rssPeakAtMs`: when the peak was sampled (epoch ms), to tell which part of a phase it belongs to. */
  window(): { cores: number; rssPeakMiB: number; rssPeakAtMs: number; rssNowMiB: number } {
    const cores = (cpuSeconds(this.pid) - this.cpuAt) / ((performance.now() - this.wallAt) / 1000);
    const now = rssMiB(this.pid);
    const result =
      now > this.peak
        ? { cores, rssPeakMiB: now, rssPeakAtMs: Date.now(), rssNowMiB: now }
        : { cores, rssPeakMiB: this.peak, rssPeakAtMs: this.peakAt, rssNowMiB: now };
    this.reset();
    return result;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
