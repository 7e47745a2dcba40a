/** The chaos bench's command line. */
import { parseArgs } from 'node:util';
import { DEFAULT_HOLD_MS, FAULT_KINDS, type FaultKind } from './faults.ts';

export const USAGE = `Usage: npm run bench:chaos -- [options]
  --faults LIST              fault kinds, comma-separated, run one phase each in this order (default kill):
                               kill               SIGKILL an instance and restart it
                               pg-restart         crash-stop the database (pg_ctl -m immediate) and start it
                               pg-pause           SIGSTOP the database's processes for the hold time
                               partition-db       cut the namespaced instance from the database
                               partition-callers  cut the namespaced instance from its callers (the balancer)
                               clock-step         step one instance's wall clock, kill one so calls resume
                                                  across the skew, step it back
                             or "all". Every kind but kill runs against a private PostgreSQL cluster the bench
                             makes (initdb, as the postgres user); partitions need root, iproute2 and iptables
                             (instance B runs in a network namespace); clock-step needs libfaketime (apt-get
                             install faketime)
  --calls N                  simulated calls per phase, started over the fault period (default 50 for kill
                             alone, else 20)
  --count M                  faults per phase (default 20 for kill alone, else 3); --kills M is the same
  --hold S                   seconds a pause, partition or clock step lasts (default: pg-pause 8,
                             partitions 10, clock-step 10)
  --step M                   minutes a clock step goes, forward and back in turn (default 5)
  --store postgres|sqlite    the journal store for kill alone (default postgres on 127.0.0.1:5432); the other
                             kinds always use the private cluster
  --logs DIR                 also write each server process's output to DIR/<kind>/<writer>-<pid>.log
  --help                     this text`;

export interface ChaosOptions {
  faults: FaultKind[];
  calls: number;
  count: number;
  /** Per kind, how long its fault lasts (ms). */
  holdMs: (kind: FaultKind) => number;
  stepS: number;
  store: 'postgres' | 'sqlite';
  logs: string | null;
}

/** Parse argv; prints usage and exits on --help or a bad value. */
export function parseOptions(argv: string[]): ChaosOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      faults: { type: 'string', default: 'kill' },
      calls: { type: 'string' },
      count: { type: 'string' },
      kills: { type: 'string' },
      hold: { type: 'string' },
      step: { type: 'string', default: '5' },
      store: { type: 'string', default: 'postgres' },
      logs: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const faults = (
    values.faults === 'all' ? [...FAULT_KINDS] : values.faults.split(',').map((s) => s.trim())
  ) as FaultKind[];
  const unknown = faults.filter((f) => !(FAULT_KINDS as readonly string[]).includes(f));
  if (unknown.length > 0 || faults.length === 0)
    fail(`unknown fault kind(s): ${unknown.join(', ') || '(none given)'}`);
  const killOnly = faults.every((f) => f === 'kill');
  const calls = integer(values.calls, killOnly ? 50 : 20, 1, '--calls');
  const count = integer(values.count ?? values.kills, killOnly ? 20 : 3, 0, '--count');
  const hold = values.hold === undefined ? null : Number(values.hold);
  if (hold !== null && !(hold > 0)) fail('--hold must be a positive number of seconds');
  const step = Number(values.step);
  if (!(step > 0)) fail('--step must be a positive number of minutes');
  if (values.store !== 'postgres' && values.store !== 'sqlite') fail('--store must be postgres or sqlite');
  if (values.store === 'sqlite' && !killOnly)
    fail('--store sqlite is for kill alone: the other kinds need PostgreSQL');
  return {
    faults,
    calls,
    count,
    holdMs: (kind) => (hold === null ? DEFAULT_HOLD_MS[kind] : hold * 1000),
    stepS: Math.round(step * 60),
    store: values.store,
    logs: values.logs ?? null,
  };
}

function integer(value: string | undefined, fallback: number, min: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) fail(`${name} must be an integer of at least ${min}`);
  return n;
}

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}
