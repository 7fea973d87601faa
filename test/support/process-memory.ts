import { readFileSync } from 'node:fs';

/** The kernel's high-water mark of a process's resident set (VmHWM), in bytes: its peak RSS so far. */
export function peakRss(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'))!;
  return Number(/(\d+)\s*kB/.exec(line)![1]) * 1024;
}
