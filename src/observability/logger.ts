/**
 * Structured logger: one JSON object per line. Message text is fixed wording; anything that varies goes into
 * fields. Personal data (phone numbers, digits, transcripts) goes under `pii`, which is redacted (its keys kept,
 * its values replaced), dropped altogether, or shown: LOG_PII, whose default is `drop` on a production server
 * (TWILIO_AUTH_TOKEN set) and `redact` elsewhere. So logs can be shipped without leaking callers' data.
 *
 * Field values can come from the network (a flow name, a mark, a call id), so a string longer than
 * MAX_FIELD_CHARS is cut, saying how much was left out: one hostile value cannot make a line of megabytes.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Longest string a field (or a bound value, or an error's message) keeps; a stack keeps STACK_CHARS. */
export const MAX_FIELD_CHARS = 512;
const STACK_CHARS = 4096;

/** `value` cut to `max` characters, with how many more there were. */
export function clip(value: string, max = MAX_FIELD_CHARS): string {
  return value.length <= max ? value : `${value.slice(0, max)}…(+${value.length - max} chars)`;
}

function clipped(value: unknown): unknown {
  return typeof value === 'string' ? clip(value) : value;
}

export interface LogFields {
  /** Personal data: redacted in output unless explicitly shown. */
  pii?: Record<string, unknown>;
  err?: unknown;
  [key: string]: unknown;
}

export interface LogRecord extends LogFields {
  time: string;
  level: Level;
  msg: string;
}

export type LogSink = (record: LogRecord) => void;

/** Decides, record by record, what reaches the sink: false keeps it out (counted elsewhere, say). */
export type LogGate = (record: LogRecord) => boolean;

/** What becomes of a record's `pii` field. */
export type PiiMode = 'show' | 'redact' | 'drop';

export interface LoggerOptions {
  level?: Level;
  /** Shorthand for `pii: 'show'`. */
  showPii?: boolean;
  pii?: PiiMode;
  sink?: LogSink;
  gate?: LogGate;
}

export class Logger {
  readonly #bindings: Record<string, unknown>;
  readonly #rank: number;
  readonly #pii: PiiMode;
  readonly #sink: LogSink;
  readonly #gate: LogGate | null;

  constructor(options: LoggerOptions = {}, bindings: Record<string, unknown> = {}) {
    this.#rank = LEVEL_RANK[options.level ?? 'info'];
    this.#pii = options.pii ?? (options.showPii ? 'show' : 'redact');
    this.#sink = options.sink ?? stdoutSink;
    this.#gate = options.gate ?? null;
    this.#bindings = bindings;
  }

  /** A logger that adds `bindings` to every record. */
  child(bindings: Record<string, unknown>): Logger {
    return new Logger(
      { level: rankToLevel(this.#rank), pii: this.#pii, sink: this.#sink, ...this.#gateOption() },
      { ...this.#bindings, ...Object.fromEntries(Object.entries(bindings).map(([k, v]) => [k, clipped(v)])) },
    );
  }

  /** A logger whose records reach the sink only when `gate` (after this logger's own gate) lets them. */
  gated(gate: LogGate): Logger {
    const own = this.#gate;
    return new Logger(
      {
        level: rankToLevel(this.#rank),
        pii: this.#pii,
        sink: this.#sink,
        gate: own === null ? gate : (record) => own(record) && gate(record),
      },
      this.#bindings,
    );
  }

  #gateOption(): { gate?: LogGate } {
    return this.#gate === null ? {} : { gate: this.#gate };
  }

  isEnabled(level: Level): boolean {
    return LEVEL_RANK[level] >= this.#rank;
  }

  debug(msg: string, fields?: LogFields): void {
    this.#write('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.#write('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.#write('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.#write('error', msg, fields);
  }

  #write(level: Level, msg: string, fields?: LogFields): void {
    if (LEVEL_RANK[level] < this.#rank) return;
    const record: LogRecord = { time: new Date().toISOString(), level, msg, ...this.#bindings };
    if (fields) {
      for (const [key, value] of Object.entries(fields)) {
        if (key === 'pii') {
          if (this.#pii !== 'drop')
            record.pii = this.#pii === 'show' ? (value as LogFields['pii']) : redact(value);
        } else if (key === 'err') record.err = serializeError(value);
        else record[key] = clipped(value);
      }
    }
    if (this.#gate === null || this.#gate(record)) this.#sink(record);
  }
}

function rankToLevel(rank: number): Level {
  return (Object.keys(LEVEL_RANK) as Level[]).find((l) => LEVEL_RANK[l] === rank) ?? 'info';
}

function redact(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value && typeof value === 'object') for (const key of Object.keys(value)) out[key] = '[redacted]';
  return out;
}

/** Errors serialise to `{}` by default; keep what helps, including the typed error's code. */
export function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const out: Record<string, unknown> = { name: err.name, message: clip(err.message) };
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  // A typed error that may succeed when tried again says so (errors.ts); others stay as they were.
  if ((err as { retryable?: unknown }).retryable === true) out.retryable = true;
  if (err.stack) out.stack = clip(err.stack, STACK_CHARS);
  return out;
}

function stdoutSink(record: LogRecord): void {
  process.stdout.write(JSON.stringify(record) + '\n');
}

/**
 * Logger configured from LOG_LEVEL and LOG_PII (`show`, `redact` or `drop`; unset: `drop` when
 * TWILIO_AUTH_TOKEN is set, a production server, else `redact`).
 */
export function loggerFromEnv(env: NodeJS.ProcessEnv = process.env, sink?: LogSink): Logger {
  const level = (env.LOG_LEVEL ?? 'info') as Level;
  return new Logger({
    level: level in LEVEL_RANK ? level : 'info',
    pii: piiMode(env),
    ...(sink ? { sink } : {}),
  });
}

export function piiMode(env: NodeJS.ProcessEnv): PiiMode {
  const asked = env.LOG_PII?.trim();
  if (asked === 'show' || asked === 'redact' || asked === 'drop') return asked;
  return env.TWILIO_AUTH_TOKEN?.trim() ? 'drop' : 'redact';
}

/** A logger that keeps records in memory: for tests that assert on log lines. */
export function memoryLogger(
  level: Level = 'debug',
  options: { showPii?: boolean } = {},
): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  return {
    logger: new Logger({ level, showPii: options.showPii ?? false, sink: (r) => records.push(r) }),
    records,
  };
}
