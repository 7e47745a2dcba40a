/**
 * A PostgreSQL cluster of the bench's own, made with initdb in a temporary folder and run with pg_ctl as the
 * `postgres` user, so it can be restarted and paused (SIGSTOP) without touching any other cluster on the
 * machine. It listens on 127.0.0.1 and on any other addresses given (a veth address a network namespace reaches
 * it by), trusting those networks.
 */
import { execFile, execFileSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  appendFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { atExit } from './lifecycle.ts';

const run = promisify(execFile);

export interface PrivatePostgresOptions {
  /** Addresses to listen on besides 127.0.0.1. */
  listen?: string[];
  /** CIDR ranges trusted besides 127.0.0.1/32. */
  trust?: string[];
}

export class PrivatePostgres {
  readonly port: number;
  readonly #bin: string;
  readonly #dir: string;
  readonly #options: string;
  /** Processes stopped by pause(), continued by resume(). */
  #paused: number[] = [];
  readonly #cleanup: () => void;

  private constructor(bin: string, dir: string, port: number, listen: string[]) {
    this.#bin = bin;
    this.#dir = dir;
    this.port = port;
    this.#options = [
      `-c listen_addresses=${['127.0.0.1', ...listen].join(',')}`,
      `-p ${port}`,
      `-k ${dir}`,
      '-c fsync=on',
      '-c synchronous_commit=on',
    ].join(' ');
    this.#cleanup = atExit('private PostgreSQL', () => this.#destroySync());
  }

  /** Where the binaries of the newest installed PostgreSQL are, or null when none is installed. */
  static binaries(): string | null {
    const root = '/usr/lib/postgresql';
    if (!existsSync(root)) return null;
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    return versions[0] === undefined ? null : join(root, versions[0], 'bin');
  }

  /** initdb a new cluster and start it; it is stopped and removed at exit if not before. */
  static async create(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
    const bin = PrivatePostgres.binaries();
    if (bin === null)
      throw new Error('no PostgreSQL binaries under /usr/lib/postgresql (apt-get install postgresql)');
    const dir = mkdtempSync(join(tmpdir(), 'sb-chaos-pg-'));
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
    await asPostgres(join(bin, 'initdb'), [
      '-D',
      join(dir, 'data'),
      '-A',
      'trust',
      '-U',
      'postgres',
      '--no-sync',
    ]);
    for (const cidr of options.trust ?? []) {
      appendFileSync(join(dir, 'data', 'pg_hba.conf'), `host all all ${cidr} trust\n`);
    }
    const pg = new PrivatePostgres(bin, dir, await freePort(), options.listen ?? []);
    await pg.start();
    return pg;
  }

  /** The connection URL through `host` (127.0.0.1 or a listened-on address), database `postgres`. */
  url(host = '127.0.0.1'): string {
    return `postgres://postgres@${host}:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    await asPostgres(this.#pgCtl, [
      '-D',
      this.#data,
      '-l',
      join(this.#dir, 'log'),
      '-o',
      this.#options,
      '-w',
      'start',
    ]);
  }

  /** Stop as a crash would (immediate: no checkpoint, connections cut); committed work survives. */
  async stopImmediate(): Promise<void> {
    await asPostgres(this.#pgCtl, ['-D', this.#data, '-m', 'immediate', '-w', 'stop']);
  }

  /** SIGSTOP the postmaster first (so it forks nothing more), then every process it started. */
  pause(): void {
    const postmaster = this.#postmasterPid();
    if (postmaster === null) return;
    process.kill(postmaster, 'SIGSTOP');
    this.#paused = [postmaster];
    for (const pid of childPids(postmaster)) {
      try {
        process.kill(pid, 'SIGSTOP');
        this.#paused.push(pid);
      } catch {
        // Exited meanwhile.
      }
    }
  }

  /** SIGCONT what pause() stopped, children first. */
  resume(): void {
    for (const pid of this.#paused.splice(0).reverse()) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // Exited meanwhile.
      }
    }
  }

  /** Stop the cluster and remove its folder (also done at exit). */
  destroy(): void {
    this.#cleanup();
  }

  get #data(): string {
    return join(this.#dir, 'data');
  }

  get #pgCtl(): string {
    return join(this.#bin, 'pg_ctl');
  }

  #postmasterPid(): number | null {
    try {
      const pid = Number(readFileSync(join(this.#data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  #destroySync(): void {
    this.resume();
    if (this.#postmasterPid() !== null) {
      try {
        execFileSync(
          'runuser',
          ['-u', 'postgres', '--', this.#pgCtl, '-D', this.#data, '-m', 'immediate', '-w', 'stop'],
          {
            stdio: 'ignore',
            timeout: 30_000,
          },
        );
      } catch {
        // Already stopped, or it would not stop: the SIGKILL below.
        const pid = this.#postmasterPid();
        if (pid !== null) process.kill(pid, 'SIGKILL');
      }
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** Run a PostgreSQL binary as the `postgres` user (it refuses to run as root). */
async function asPostgres(file: string, args: string[]): Promise<void> {
  await run('runuser', ['-u', 'postgres', '--', file, ...args], { timeout: 60_000 });
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** A TCP port free on 127.0.0.1 now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
