/**
 * `switchboard call`: a simulated Twilio call against a running server, printing a timeline of the
 * conversation. Keys and spoken lines are given in order, each once the agent has finished speaking (or, with
 * --barge-in-after, the first spoken line over the agent). Spoken lines are synthesized with a flite voice other
 * than the agent's and streamed in real time, as a caller's voice would be. What the agent said is printed as
 * heard: its audio transcribed offline by pocketsphinx.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { writeWavMulaw } from '../audio/index.ts';
import { AgentTranscriber } from '../simulator/agent-transcriber.ts';
import {
  placeCall,
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
  --hangup-after MS  hang up once the agent has been silent this long after the last input (3000)`;

export async function main(args: string[]): Promise<number> {
  const { values, tokens } = parseArgs({
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
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  for (const keys of values.dtmf ?? []) {
    if (!/^[0-9*#A-D]+$/.test(keys)) {
      console.error(`switchboard call: --dtmf takes keypad keys (0-9, *, #, A-D), got "${keys}"`);
      return 2;
    }
  }
  const bargeInAfter = values['barge-in-after'] === undefined ? null : Number(values['barge-in-after']);
  if (bargeInAfter !== null && !(Number.isFinite(bargeInAfter) && bargeInAfter >= 0)) {
    console.error('switchboard call: --barge-in-after takes a number of milliseconds');
    return 2;
  }
  let inputs: CallerInput[];
  try {
    inputs = await callerInputs(tokens, values.voice ?? 'kal');
  } catch (err) {
    console.error(`switchboard call: ${(err as Error).message}`);
    return 1;
  }
  const idle = Number(values['hangup-after'] ?? 3000);
  const url = values.url ?? `http://127.0.0.1:${process.env.PORT ?? 8080}`;
  // Opened while the call starts; each agent line waits for it, and lines print in order.
  const transcriber = values['no-transcribe'] ? null : AgentTranscriber.open();
  void transcriber?.then((t) => {
    if (!(t instanceof AgentTranscriber)) console.error(`agent audio is not transcribed: ${t.unavailable}`);
  }, noop);
  let printed = Promise.resolve();
  const print = (e: TimelineEvent): void => {
    printed = printed.then(async () => {
      const line = describe(e, e.kind === 'agent' ? await agentWords(transcriber, e.audio) : null);
      if (line) console.log(line);
    });
  };
  let result: SimulatedCallResult;
  try {
    result = await placeCall({
      url,
      ...(values.flow ? { flow: values.flow } : {}),
      inputs,
      bargeInAfterMs: bargeInAfter,
      authToken: values.token ?? process.env.TWILIO_AUTH_TOKEN ?? null,
      idleHangupMs: Number.isFinite(idle) ? idle : 3000,
      onEvent: print,
    });
  } finally {
    await printed;
    const opened = await transcriber?.catch(() => null);
    if (opened instanceof AgentTranscriber) await opened.close();
  }
  if (values.record) {
    await writeFile(values.record, writeWavMulaw(result.heard));
    console.log(`recorded ${(result.heard.length / 8000).toFixed(1)} s of agent audio to ${values.record}`);
  }
  if (result.firstMediaMs !== null)
    console.log(`first agent audio ${result.firstMediaMs.toFixed(0)} ms after start`);
  if (result.replyMs.length > 0) console.log(replySummary(result.replyMs));
  return 0;
}

/** What the agent said, as transcribed; null when not transcribing; a note when it cannot. */
async function agentWords(
  transcriber: Promise<AgentTranscriber | { unavailable: string }> | null,
  audio: Uint8Array,
): Promise<string | null> {
  if (!transcriber) return null;
  try {
    const opened = await transcriber;
    if (!(opened instanceof AgentTranscriber)) return null;
    return await opened.transcribe(audio);
  } catch (err) {
    return `(not transcribed: ${(err as Error).message})`;
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
