/**
 * `switchboard call`: a simulated Twilio call against a running server, printing a timeline of the
 * conversation. Keys are pressed in order, each once the agent has finished speaking.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { writeWavMulaw } from '../audio/index.ts';
import { placeCall, type TimelineEvent } from '../simulator/caller.ts';

const HELP = `usage: switchboard call [--url URL] [--flow NAME] [--dtmf KEYS]... [--record out.wav]

  --url URL        server base URL (default http://127.0.0.1:$PORT, PORT defaulting to 8080)
  --flow NAME      flow to call (the server's default flow otherwise)
  --dtmf KEYS      keys to press once the agent stops talking, e.g. --dtmf 2 --dtmf 5551234#; repeatable
  --record FILE    write what the caller heard as a WAV file (8 kHz mu-law)
  --token TOKEN    sign requests like Twilio (default: $TWILIO_AUTH_TOKEN)
  --hangup-after MS  hang up once the agent has been silent this long after the last input (3000)`;

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: 'string' },
      flow: { type: 'string' },
      dtmf: { type: 'string', multiple: true },
      record: { type: 'string' },
      token: { type: 'string' },
      'hangup-after': { type: 'string' },
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
  const idle = Number(values['hangup-after'] ?? 3000);
  const url = values.url ?? `http://127.0.0.1:${process.env.PORT ?? 8080}`;
  const result = await placeCall({
    url,
    ...(values.flow ? { flow: values.flow } : {}),
    inputs: (values.dtmf ?? []).map((keys) => ({ kind: 'dtmf' as const, keys })),
    authToken: values.token ?? process.env.TWILIO_AUTH_TOKEN ?? null,
    idleHangupMs: Number.isFinite(idle) ? idle : 3000,
    onEvent: (e) => {
      const line = describe(e);
      if (line) console.log(line);
    },
  });
  if (values.record) {
    await writeFile(values.record, writeWavMulaw(result.heard));
    console.log(`recorded ${(result.heard.length / 8000).toFixed(1)} s of agent audio to ${values.record}`);
  }
  if (result.firstMediaMs !== null)
    console.log(`first agent audio ${result.firstMediaMs.toFixed(0)} ms after start`);
  return 0;
}

function describe(e: TimelineEvent): string | null {
  const t = (e.t / 1000).toFixed(2).padStart(6);
  switch (e.kind) {
    case 'agent':
      return `${t} agent speaks ${(e.durationMs / 1000).toFixed(1)} s [mark ${e.mark}]${e.interrupted ? ' (interrupted)' : ''}`;
    case 'dtmf':
      return `${t} caller dtmf ${e.keys}`;
    case 'hangup':
      return `${t} ${e.by} hangs up`;
    case 'say':
      return `${t} twiml says "${e.text}"`;
    case 'stream':
      return e.event === 'open' ? `${t} stream open` : `${t} stream closed (${e.code ?? '-'})`;
  }
}
