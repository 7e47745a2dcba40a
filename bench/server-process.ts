/** Starts `switchboard serve` as a child process on a free port, for benchmarks that measure the server alone. */
import { spawn, type ChildProcess } from 'node:child_process';
import { childPids, cpuMs, rssMiB } from '../src/load/process-stats.ts';

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the server printed on stdout so far (banner and JSON log lines). */
  output(): string;
  /** The JSON log records printed so far. */
  logs(): Record<string, unknown>[];
  /** Resident set size of the server process, in MiB. */
  rssMiB(): number;
  /** Resident set size of the server's child processes (the flite pool), summed, in MiB. */
  childrenRssMiB(): number;
  /** CPU time (user + system, all threads) the server process has used since it started, in ms. */
  cpuMs(): number;
  /**
   * The same for the server's child processes (flite, and decoders when they run as processes): the live ones
   * summed, plus those that ended (the kernel adds them to the server's cutime + cstime), in ms.
   */
  childrenCpuMs(): number;
  stop(): Promise<void>;
}

const BIN = new URL('../bin/switchboard.js', import.meta.url).pathname;

/** `nodeArgs` go before the script, e.g. --cpu-prof (workers inherit them). */
export async function startServerProcess(
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeArgs, BIN, 'serve'], {
    // One process unless asked: these figures are per process (bench/capacity.ts measures workers).
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', WORKERS: '1', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  return {
    url,
    child,
    output: () => out,
    logs: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    rssMiB: () => rssMiB(child.pid!),
    childrenRssMiB: () => childPids(child.pid!).reduce((sum, kid) => sum + rssMiB(kid), 0),
    cpuMs: () => cpuMs(child.pid!),
    childrenCpuMs: () =>
      childPids(child.pid!).reduce((sum, kid) => sum + liveCpuMs(kid), cpuMs(child.pid!, 'ended children')),
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** cpuMs, or 0 for a child that ended since it was listed: it counts in cutime once the server has reaped it. */
function liveCpuMs(pid: number): number {
  try {
    return cpuMs(pid);
  } catch {
    return 0;
  }
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? NaN;
}
