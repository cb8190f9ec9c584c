/** What /proc says about a benchmark's processes: memory, CPU time, and the peak of a group of short-lived ones. */
import { readFileSync } from 'node:fs';

export interface ProcStats {
  /** Resident memory, and the two parts of it: private (heap, stacks) and mapped files (the executable's pages, shared). */
  readonly rssMiB: number;
  readonly anonMiB: number;
  readonly fileMiB: number;
  /** User plus system CPU time so far. */
  readonly cpuSec: number;
}

const kib = (status: string, field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;

export function procStats(pid: number): ProcStats {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return {
    rssMiB: kib(status, 'VmRSS'),
    anonMiB: kib(status, 'RssAnon'),
    fileMiB: kib(status, 'RssFile') + kib(status, 'RssShmem'),
    cpuSec: (Number(stat[11]) + Number(stat[12])) / 100,
  };
}

const PAGE_MIB = 4096 / 1024 / 1024;

/** A process and its descendants (a runtime's plugin and the IPAM plugin it runs). */
function tree(pid: number, into: number[]): void {
  into.push(pid);
  let children = '';
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
  } catch {
    return; // gone
  }
  for (const c of children.split(' ').filter(Boolean)) tree(Number(c), into);
}

/**
 * Samples the memory of a changing set of processes (and their children) every few milliseconds and keeps
 * the peak of their sum. Pages of a mapped file (the executable) are shared by all of them, so they are
 * counted once (the largest process's); everything else is private to each process and summed.
 */
export class PeakMemory {
  #peakMiB = 0;
  #timer: NodeJS.Timeout;

  constructor(roots: () => readonly number[], everyMs = 5) {
    this.#timer = setInterval(() => this.#sample(roots()), everyMs);
  }

  #sample(roots: readonly number[]): void {
    const pids: number[] = [];
    for (const r of roots) tree(r, pids);
    let priv = 0;
    let shared = 0;
    for (const pid of pids) {
      try {
        const [, resident, share] = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ').map(Number);
        priv += (resident! - share!) * PAGE_MIB;
        shared = Math.max(shared, share! * PAGE_MIB);
      } catch {
        // exited between the listing and the read
      }
    }
    this.#peakMiB = Math.max(this.#peakMiB, priv + shared);
  }

  stop(): number {
    clearInterval(this.#timer);
    return this.#peakMiB;
  }
}
