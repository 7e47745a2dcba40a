/**
 * The server instances of a chaos run: each a real `switchboard serve` child process, on the host or inside the
 * bench's network namespace, optionally with its wall clock read through a ClockFile. Each start is a new
 * *writer*: its PostgreSQL connections carry the application name `chaos-<slot><generation>`, which the write
 * audit records against every lease taken and every record appended, so the checker can tell processes apart.
 * Their JSON logs are read as they come: which calls each holds, and what the run's figures need.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ClockFile } from './clock-file.ts';
import { atExit } from './lifecycle.ts';
import type { Netns } from './netns.ts';

const BIN = new URL('../../bin/switchboard.js', import.meta.url).pathname;
const START_TIMEOUT_MS = 60_000;

export type Slot = 'A' | 'B';

/** How to start one slot's instance; the same spec restarts it. */
export interface InstanceSpec {
  slot: Slot;
  /** The slot's own variables (STORE_URL, HOST, ...), on top of the run's. */
  env: Record<string, string>;
  /** Run inside this namespace; null: on the host. */
  netns: Netns | null;
  /** Read the wall clock through this file (libfaketime at `faketime`); null: the real clock. */
  clock: { file: ClockFile; library: string } | null;
  /** Also write each process's output to this folder. */
  logsDir: string | null;
}

/** One server log line worth keeping. */
export interface LoggedError {
  slot: Slot;
  callId: string;
  msg: string;
  code: string;
}

/** What the instances' logs said, across every instance of the run. */
export class ServerLogs {
  readonly errors: LoggedError[] = [];
  /** Appends refused by the fence ('call taken over by another instance'): the fence working. */
  fenced = 0;
  /** Calls stopped because their journal could not be written, by code. */
  readonly journalFailures = new Map<string, number>();
  /** Per call, when an instance sent each stream's first agent audio (ms since the epoch, its clock). */
  readonly firstAudioSent = new Map<string, number[]>();
  /**
   * Which instance (writer) holds each live call: the last to log 'call started' or 'call resumed from its
   * journal' for it, until it logs 'call ended'. A call taken over elsewhere leaves the instance that lost it.
   */
  readonly holders = new Map<string, string>();

  observe(writer: string, slot: Slot, rec: Record<string, unknown>): void {
    const callId = typeof rec.callId === 'string' ? rec.callId : '';
    const code = typeof rec.code === 'string' ? rec.code : '';
    if (callId !== '' && (rec.msg === 'call started' || rec.msg === 'call resumed from its journal'))
      this.holders.set(callId, writer);
    else if (rec.msg === 'call ended' && this.holders.get(callId) === writer) this.holders.delete(callId);
    if (rec.msg === 'call taken over by another instance; stopping here') this.fenced += 1;
    if (rec.msg === 'call journal failed; the call stops here')
      this.journalFailures.set(code, (this.journalFailures.get(code) ?? 0) + 1);
    if (rec.level === 'error' || rec.level === 'fatal')
      this.errors.push({ slot, callId, msg: String(rec.msg), code });
    if (rec.msg === 'first agent audio sent' && typeof rec.time === 'string') {
      const list = this.firstAudioSent.get(callId) ?? [];
      list.push(Date.parse(rec.time));
      this.firstAudioSent.set(callId, list);
    }
  }
}

/** One running `switchboard serve`, with the calls its own logs say it holds. */
export class Instance {
  readonly spec: InstanceSpec;
  readonly writer: string;
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** Where the balancer reaches it. */
  host = '';
  port = 0;
  /** Resolves when the process has exited and its output is all read. */
  readonly closed: Promise<void>;
  readonly #logs: ServerLogs;
  readonly #forget: () => void;

  private constructor(spec: InstanceSpec, generation: number, logs: ServerLogs) {
    this.spec = spec;
    this.#logs = logs;
    this.writer = `chaos-${spec.slot}${generation}`;
    const command = [...(spec.netns?.exec ?? []), process.execPath, BIN, 'serve'];
    this.child = spawn(command[0]!, command.slice(1), {
      env: {
        ...process.env,
        PORT: '0',
        HOST: '',
        TWILIO_AUTH_TOKEN: '',
        PROMPT_CACHE_DIR: 'off',
        WORKERS: '1',
        PGAPPNAME: this.writer,
        ...spec.env,
        ...(spec.clock ? spec.clock.file.env(spec.clock.library) : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#forget = atExit(`instance ${this.writer}`, () => this.kill('SIGKILL'));
    this.closed = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    void this.closed.then(() => this.#forget());
    this.#readLogs(logs);
  }

  /** Start the slot's instance; resolves once it listens. */
  static async start(spec: InstanceSpec, generation: number, logs: ServerLogs): Promise<Instance> {
    const instance = new Instance(spec, generation, logs);
    await instance.#listening();
    return instance;
  }

  /** The calls it holds, by the logs (see ServerLogs.holders). */
  get live(): string[] {
    return [...this.#logs.holders].flatMap(([callId, writer]) => (writer === this.writer ? [callId] : []));
  }

  get slot(): Slot {
    return this.spec.slot;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  async #listening(): Promise<void> {
    let out = '';
    const onData = (chunk: Buffer): void => void (out += chunk.toString());
    this.child.stdout.on('data', onData);
    this.child.stderr.on('data', onData);
    const deadline = Date.now() + START_TIMEOUT_MS;
    try {
      for (;;) {
        const m = /listening on http:\/\/(\S+):(\d+)/.exec(out);
        if (m) {
          this.host = m[1]!;
          this.port = Number(m[2]);
          return;
        }
        if (Date.now() > deadline || !this.running) {
          this.kill('SIGKILL');
          throw new Error(`${this.writer} did not start:\n${out.slice(-2000)}`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    } finally {
      this.child.stdout.off('data', onData);
      this.child.stderr.off('data', onData);
    }
  }

  #readLogs(logs: ServerLogs): void {
    // A line reader of our own: a line cut by SIGKILL must not throw.
    let partial = '';
    const onData = (chunk: Buffer): void => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        let rec: Record<string, unknown>;
        try {
          rec = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        logs.observe(this.writer, this.slot, rec);
      }
    };
    this.child.stdout.on('data', onData);
    this.child.stderr.on('data', onData);
    if (this.spec.logsDir !== null) {
      mkdirSync(this.spec.logsDir, { recursive: true });
      const file = createWriteStream(join(this.spec.logsDir, `${this.writer}-${this.pid}.log`));
      // Two sources into one file: neither may end it; the process's exit does.
      this.child.stdout.pipe(file, { end: false });
      this.child.stderr.pipe(file, { end: false });
      void this.closed.then(() => file.end());
    }
  }
}
