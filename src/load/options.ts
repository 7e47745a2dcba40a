/**
 * What `switchboard load` is asked to do, checked: the one server it may call, the steps of concurrent calls, how
 * fast to ramp and how long to hold, what callers say and when, and the bounds on its own run.
 */

/** What each caller streams: silence, a recorded WAV, or lines synthesized by flite. */
export type CallerSpeech =
  { kind: 'silence' } | { kind: 'wav'; path: string } | { kind: 'say'; lines: string[]; voice: string };

export interface LoadOptions {
  /** The server's base URL (http or https); the only target, with `allowHosts`. */
  url: string;
  flow: string | null;
  /** Concurrent calls to reach in each step, increasing. */
  steps: number[];
  /** New calls placed per second while ramping up to a step. */
  rampPerSecond: number;
  /** How long each step holds its calls, measuring, in ms. */
  holdMs: number;
  speech: CallerSpeech;
  /** Each caller speaks once per this period, in ms, offset per call. */
  everyMs: number;
  /** A turn is answered when agent audio begins within this bound after the caller's end of speech, in ms. */
  answerWithinMs: number;
  /** Hosts (`host` or `host:port`) the media websocket may be on besides the --url's. */
  allowHosts: string[];
  authToken: string | null;
  /** The server's process, when it runs here; found from the listening port when null and the host is local. */
  pid: number | null;
  /** The whole run stops after this many seconds, whatever is left. */
  maxSeconds: number;
  json: boolean;
}

/** An option the user gave cannot be used; the message says which and why. */
export class LoadUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoadUsageError';
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** A duration such as "6s", "500ms", "2m" or a bare number of `bareUnit`s, in ms. */
export function parseDuration(text: string, option: string, bareUnit: 'ms' | 's' = 's'): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new LoadUsageError(`${option} takes a duration such as 6s, 500ms or 2m; got "${text}"`);
  const ms = Number(m[1]) * UNITS[m[2] ?? bareUnit]!;
  if (!(ms > 0)) throw new LoadUsageError(`${option} must be more than zero; got "${text}"`);
  return ms;
}

/** "50,100,150": the concurrent calls of each step, positive and increasing. */
export function parseSteps(text: string): number[] {
  const steps = text.split(',').map((s) => s.trim());
  const out: number[] = [];
  for (const s of steps) {
    const n = Number(s);
    if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < 1)
      throw new LoadUsageError(`--calls takes whole numbers of calls separated by commas; got "${text}"`);
    if (out.length > 0 && n <= out.at(-1)!)
      throw new LoadUsageError(`--calls must increase from step to step; got "${text}"`);
    out.push(n);
  }
  return out;
}

/** A positive number option, such as --ramp 5 or --max-seconds 600. */
export function parsePositive(text: string, option: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new LoadUsageError(`${option} takes a number above zero; got "${text}"`);
  return n;
}

/** The --url: an http(s) base address without query or fragment. */
export function parseTargetUrl(text: string | undefined): string {
  if (text === undefined)
    throw new LoadUsageError(
      '--url is required: the address of the server to load, e.g. http://127.0.0.1:8080',
    );
  if (!/^https?:\/\//i.test(text) || !URL.canParse(text))
    throw new LoadUsageError(
      `--url takes the server's http(s) address, such as http://127.0.0.1:8080; got "${text}"`,
    );
  const u = new URL(text);
  if (u.search || u.hash)
    throw new LoadUsageError(`--url takes a base address without ? or #; got "${text}"`);
  return text.replace(/\/+$/, '');
}

/** An --allow-host value: `host` or `host:port`, lower-cased. */
export function parseAllowHost(text: string): string {
  const t = text.trim().toLowerCase();
  if (!URL.canParse(`ws://${t}`) || new URL(`ws://${t}`).host === '' || /[/?#@]/.test(t))
    throw new LoadUsageError(`--allow-host takes a host or host:port; got "${text}"`);
  return t;
}
