/**
 * The server's CPU and memory as Linux's /proc shows them, for a server on this machine: a process and all its
 * descendants (node:cluster workers are children of the primary; speech engines run in child processes), and the
 * process listening on a TCP port, found through /proc/net/tcp{,6} and the socket links in /proc/<pid>/fd.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

let clockTicks: number | undefined;

/**
 * CPU time (user + system, every thread) a live process has used, in ms, from /proc/<pid>/stat; with 'ended
 * children', that of its children that have ended and been waited for instead.
 */
export function cpuMs(pid: number, of: 'self' | 'ended children' = 'self'): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses; fields from 3 on follow its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime, stime are fields 14 and 15; cutime, cstime 16 and 17.
  const at = of === 'self' ? 11 : 13;
  return ((Number(fields[at]) + Number(fields[at + 1])) * 1000) / clockTicks;
}

/** Resident set size of one process, in MiB. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** The children of a process, from every one of its threads (a child belongs to the thread that forked it). */
export function childPids(pid: number): number[] {
  const kids: number[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const text = readOr(`/proc/${pid}/task/${tid}/children`, '');
    for (const kid of text.trim().split(/\s+/)) if (kid) kids.push(Number(kid));
  }
  return kids;
}

/** The process and all its live descendants. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      out.push(...childPids(out[i]!));
    } catch {
      // It ended while being listed.
    }
  }
  return out;
}

/** CPU and memory of a process tree at one moment. */
export interface TreeSample {
  /** CPU time of the tree so far, in ms: live processes, plus children the root has reaped. */
  cpuMs: number;
  /** Resident memory of every live process in the tree, summed, in MiB. */
  rssMiB: number;
  processes: number;
}

/** Samples a process tree; throws when the root process is gone. */
export function sampleTree(pid: number): TreeSample {
  const pids = processTree(pid);
  let cpu = cpuMs(pid, 'ended children');
  let rss = 0;
  let processes = 0;
  for (const p of pids) {
    try {
      const c = cpuMs(p);
      rss += rssMiB(p);
      cpu += c;
      processes += 1;
    } catch {
      // Ended since it was listed: its time counts in its parent's reaped children once waited for.
    }
  }
  return { cpuMs: cpu, rssMiB: rss, processes };
}

/** The socket inodes listening on `port` (any address, IPv4 or IPv6). */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readOr(table, '').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT, st 0A is LISTEN, the inode is the tenth field.
      if (f[1]?.endsWith(`:${hexPort}`) && f[3] === '0A' && f[9] && f[9] !== '0') inodes.add(f[9]);
    }
  }
  return inodes;
}

/**
 * The process serving `port` on this machine: of those holding a listening socket on it, the one none of the
 * others descends from (the cluster primary rather than a worker). Null when none can be seen (another user's
 * processes are hidden unless we run as root).
 */
export function findListeningPid(port: number): number | null {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return null;
  const holders: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${name}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${name}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(m[1]!)) {
        holders.push(Number(name));
        break;
      }
    }
  }
  const set = new Set(holders);
  return holders.find((pid) => !set.has(parentPid(pid))) ?? holders[0] ?? null;
}

function parentPid(pid: number): number {
  const stat = readOr(`/proc/${pid}/stat`, '');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? 0);
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}
