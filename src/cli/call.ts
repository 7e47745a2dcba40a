/**
 * `switchboard call`: a simulated Twilio call against a running server, printing a timeline of the
 * conversation. Keys and spoken lines are given in order, each once the agent has finished speaking (or, with
 * --barge-in-after, the first spoken line over the agent). Spoken lines are synthesized with a flite voice other
 * than the agent's and streamed in real time, as a caller's voice would be. What the agent said is printed as
 * heard: its audio transcribed offline by pocketsphinx.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SAMPLE_RATE, writeWavMulaw } from '../audio/index.ts';
import { isDtmfKey } from '../common/dtmf.ts';
import { AgentTranscriber } from '../simulator/agent-transcriber.ts';
import {
  placeCall,
  ServerUnreachableError,
  type CallerInput,
  type SimulatedCallResult,
  type TimelineEvent,
} from '../simulator/caller.ts';
import { FliteTts } from '../speech/tts/flite.ts';

const HELP = `usage: switchboard call [--url URL] [--flow NAME] [--dtmf KEYS | --say TEXT]... [--record out.wav]

  --url URL        server base URL (default http://127.0.0.1:$PORT, PORT defaulting to 8080)
  --flow NAME      flow to call (the server's default flow otherwise)
  --dtmf KEYS      keys to press once the agent stops talking, e.g. --dtmf 2 --dtmf 5551234#; repeatable
  --say TEXT       words to say once the agent stops talking, e.g. --say "a large pizza" --say yes; repeatable,
                   in order with --dtmf (the server needs speech recognition: see its banner)
  --voice NAME     the caller's flite voice for --say (kal; the agent speaks rms unless TTS_VOICE says otherwise)
  --barge-in-after MS  say each --say line over the agent, once its prompt has played this long
  --record FILE    write what the caller heard as a WAV file (8 kHz mu-law)
  --no-transcribe  print how long the agent spoke, not what it said (transcribing needs pocketsphinx)
  --token TOKEN    sign requests like Twilio (default: $TWILIO_AUTH_TOKEN)
  --hangup-after MS  hang up once the agent has been silent this long after the last input (3000)

Exit status: 0 when the call was connected and ended normally; 1 when the server cannot be reached, answers
with an error, turns the call away (an unknown --flow, say) or ends its stream with an error; 2 for a usage
error.`;

const NAME = 'switchboard call';

/** What a websocket close code other than a normal one means, as the server uses them. */
const CLOSE_CODES: Record<number, string> = {
  1001: 'the server went away',
  1006: 'the connection dropped',
  1008: 'the server refused the stream',
  1011: 'the server failed',
};

export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      tokens: true,
      options: {
        url: { type: 'string' },
        flow: { type: 'string' },
        dtmf: { type: 'string', multiple: true },
        say: { type: 'string', multiple: true },
        voice: { type: 'string' },
        'barge-in-after': { type: 'string' },
        record: { type: 'string' },
        token: { type: 'string' },
        'hangup-after': { type: 'string' },
        'no-transcribe': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    console.error(`${NAME}: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, tokens } = parsed;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  for (const keys of values.dtmf ?? []) {
    if (keys === '' || ![...keys].every(isDtmfKey)) {
      console.error(`${NAME}: --dtmf takes keypad keys (0-9, *, #, A-D), got "${keys}"`);
      return 2;
    }
  }
  const bargeInAfter = milliseconds(values['barge-in-after']);
  const idle = milliseconds(values['hangup-after']);
  if (Number.isNaN(bargeInAfter) || Number.isNaN(idle)) {
    const option = Number.isNaN(bargeInAfter) ? '--barge-in-after' : '--hangup-after';
    console.error(`${NAME}: ${option} takes a number of milliseconds`);
    return 2;
  }
  const url = values.url ?? `http://127.0.0.1:${process.env.PORT ?? 8080}`;
  if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) {
    console.error(
      `${NAME}: --url takes the server's http(s) address, such as http://127.0.0.1:8080; got "${url}"`,
    );
    return 2;
  }
  let inputs: CallerInput[];
  try {
    inputs = await callerInputs(tokens, values.voice ?? 'kal');
  } catch (err) {
    console.error(`${NAME}: ${(err as Error).message}`);
    return 1;
  }
  const transcription = new Transcription(values['no-transcribe'] !== true);
  let printed = Promise.resolve();
  const print = (e: TimelineEvent): void => {
    if (e.kind === 'stream' && e.event === 'open') transcription.open();
    printed = printed.then(async () => {
      const line = describe(e, e.kind === 'agent' ? await transcription.words(e.audio) : null);
      if (line) console.log(line);
    });
  };
  let result: SimulatedCallResult;
  try {
    result = await placeCall({
      url,
      ...(values.flow ? { flow: values.flow } : {}),
      inputs,
      bargeInAfterMs: bargeInAfter ?? null,
      authToken: values.token ?? process.env.TWILIO_AUTH_TOKEN ?? null,
      idleHangupMs: idle ?? 3000,
      onEvent: print,
    });
  } catch (err) {
    if (err instanceof ServerUnreachableError) {
      const hint = values.url
        ? 'is the server running there? Start it with "npm start", or check --url against its banner'
        : 'is the server running? Start it with "npm start", or pass --url with the address its banner shows';
      console.error(`${NAME}: ${err.message}; ${hint}`);
    } else console.error(`${NAME}: ${(err as Error).message}`);
    return 1;
  } finally {
    await printed;
    await transcription.close();
  }
  if (result.refused !== null) {
    const flow = values.flow ? ` to flow "${values.flow}"` : '';
    console.error(`${NAME}: the server did not connect the call${flow}: ${result.refused}`);
    return 1;
  }
  if (values.record) {
    await writeFile(values.record, writeWavMulaw(result.heard));
    console.log(
      `recorded ${(result.heard.length / SAMPLE_RATE).toFixed(1)} s of agent audio to ${values.record}`,
    );
  }
  if (result.firstMediaMs !== null)
    console.log(`first agent audio ${result.firstMediaMs.toFixed(0)} ms after start`);
  if (result.replyMs.length > 0) console.log(replySummary(result.replyMs));
  if (result.endedBy === 'agent' && result.closeCode !== null && result.closeCode !== 1000) {
    const why = CLOSE_CODES[result.closeCode] ?? 'an abnormal close';
    console.error(
      `${NAME}: the call's stream ended with code ${result.closeCode} (${why}); see the server's log`,
    );
    return 1;
  }
  return 0;
}

/** An option in milliseconds: undefined when not given, NaN when not a number of them. */
function milliseconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Number(value);
  return value.trim() !== '' && Number.isFinite(ms) && ms >= 0 ? ms : NaN;
}

/**
 * What the agent said, in words. The transcriber is opened once the server has connected the call, so a call
 * that cannot be placed fails at once instead of waiting for the recognizer to load.
 */
class Transcription {
  readonly #enabled: boolean;
  #opened: Promise<AgentTranscriber | { unavailable: string }> | null = null;

  constructor(enabled: boolean) {
    this.#enabled = enabled;
  }

  open(): void {
    if (!this.#enabled || this.#opened) return;
    this.#opened = AgentTranscriber.open();
    this.#opened.then((t) => {
      if (!(t instanceof AgentTranscriber)) console.error(`agent audio is not transcribed: ${t.unavailable}`);
    }, noop);
  }

  /** The words in `audio`; null when not transcribing; a note when it cannot. */
  async words(audio: Uint8Array): Promise<string | null> {
    if (!this.#opened) return null;
    try {
      const opened = await this.#opened;
      if (!(opened instanceof AgentTranscriber)) return null;
      return await opened.transcribe(audio);
    } catch (err) {
      return `(not transcribed: ${(err as Error).message})`;
    }
  }

  async close(): Promise<void> {
    const opened = await this.#opened?.catch(() => null);
    if (opened instanceof AgentTranscriber) await opened.close();
  }
}

function replySummary(replyMs: number[]): string {
  const sorted = [...replyMs].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return (
    `agent answered ${sorted.length} input${sorted.length === 1 ? '' : 's'}: median ${median.toFixed(0)} ms, ` +
    `slowest ${sorted.at(-1)!.toFixed(0)} ms from the end of the input to its first audio ` +
    `(including the end-of-turn silence after speech)`
  );
}

function describe(e: TimelineEvent, words: string | null): string | null {
  const t = (e.t / 1000).toFixed(2).padStart(6);
  switch (e.kind) {
    case 'agent': {
      const said = words === null ? 'speaks' : words.startsWith('(') ? `speaks ${words}` : `says "${words}"`;
      return `${t} agent ${said} (${(e.durationMs / 1000).toFixed(1)} s${e.mark ? `, mark ${e.mark}` : ''}${e.interrupted ? ', interrupted' : ''})`;
    }
    case 'dtmf':
      return `${t} caller dtmf ${e.keys}`;
    case 'speech':
      return `${t} caller says "${e.text}" (${(e.durationMs / 1000).toFixed(1)} s${e.bargeIn ? ', over the agent' : ''})`;
    case 'hangup':
      return `${t} ${e.by} hangs up`;
    case 'clear':
      return `${t} agent stops talking (clear)`;
    case 'say':
      return `${t} twiml says "${e.text}"`;
    case 'stream':
      return e.event === 'open' ? `${t} stream open` : `${t} stream closed (${e.code ?? '-'})`;
  }
}

/** The --dtmf and --say options in the order given, spoken lines synthesized with `voice`. */
async function callerInputs(
  tokens: ReturnType<typeof parseArgs>['tokens'] = [],
  voice: string,
): Promise<CallerInput[]> {
  const given = tokens.flatMap((t) =>
    t.kind === 'option' && (t.name === 'dtmf' || t.name === 'say') && typeof t.value === 'string'
      ? [{ name: t.name, value: t.value }]
      : [],
  );
  if (!given.some((g) => g.name === 'say'))
    return given.map((g) => ({ kind: 'dtmf' as const, keys: g.value }));
  const tts = new FliteTts({ voice });
  try {
    const inputs: CallerInput[] = [];
    for (const { name, value } of given) {
      if (name === 'dtmf') inputs.push({ kind: 'dtmf', keys: value });
      else inputs.push({ kind: 'speech', text: value, audio: (await tts.synthesize({ text: value })).mulaw });
    }
    return inputs;
  } finally {
    await tts.close();
  }
}

function noop(): void {}
