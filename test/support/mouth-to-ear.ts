/**
 * The ten-turn scenario that measures mouth-to-ear latency in the softphone (its test and bench/softphone-latency.ts):
 * a WAV of ten short utterances for the fake microphone, a flow that answers each with a short reply, and how the
 * page's own timeline (window.softphone.timing) gives each turn's end of speech and the start of the reply.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mulawToPcm } from '../../src/audio/mulaw.ts';
import { writeWavPcm16 } from '../../src/audio/wav.ts';
import type { FlowFile } from '../../src/flow/index.ts';
import { FliteTts } from '../../src/speech/tts/flite.ts';

/** The page's call timeline (`window.softphone.timing`), performance.now() ms. */
export interface PageTiming {
  frameAt: number[];
  framePeak: number[];
  audioStartAt: number[];
}

/** Ten short things the caller says, one a turn. */
export const UTTERANCES = [
  'yes please',
  'go on',
  'the next one',
  'that sounds good',
  'okay',
  'tell me more',
  'sure',
  'and then',
  'keep going',
  'all right',
];

/** The caller's ten turns as a WAV: 1 s of silence, then each utterance followed by time for the reply. */
export async function turnsWav(dir: string): Promise<string> {
  const flite = new FliteTts();
  try {
    const gap = 8000 * 2.5;
    const parts: Int16Array[] = [new Int16Array(8000)];
    for (const text of UTTERANCES) {
      parts.push(mulawToPcm((await flite.synthesize({ text })).mulaw), new Int16Array(gap));
    }
    const pcm = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) {
      pcm.set(part, at);
      at += part.length;
    }
    const path = join(dir, 'turns.wav');
    await writeFile(path, writeWavPcm16(pcm, 8000));
    return path;
  } finally {
    await flite.close();
  }
}

/** Two states that hand the turn back and forth on one intent: every caller turn gets a short reply. */
export const PING_PONG: FlowFile = {
  id: 'pingpong',
  version: 1,
  start: 'ping',
  intents: { go: { examples: ['go'] } },
  states: {
    ping: { say: 'Ping.', on: { go: 'pong' } },
    pong: { say: 'Pong.', on: { go: 'ping' } },
  },
  policy: { noInputMs: 20_000, maxRetries: 10 },
};

/** A captured frame at least this loud is speech. */
const SPEECH_PEAK = 0.02;
/** Silence at least this long after speech ends the caller's turn. */
const END_OF_SPEECH_GAP_MS = 500;

/**
 * For each caller turn in the page's timeline: the send time of its last loud frame (followed by at least
 * END_OF_SPEECH_GAP_MS of quiet frames), and the latency from it to the first agent audio played after it.
 */
export function mouthToEar(timing: PageTiming): { endAt: number; latencyMs: number | null }[] {
  const turns: { endAt: number; latencyMs: number | null }[] = [];
  let lastLoud: number | null = null;
  for (let i = 0; i < timing.frameAt.length; i++) {
    const at = timing.frameAt[i]!;
    if (timing.framePeak[i]! >= SPEECH_PEAK) lastLoud = at;
    else if (lastLoud !== null && at - lastLoud >= END_OF_SPEECH_GAP_MS) {
      const start = timing.audioStartAt.find((t) => t > lastLoud!);
      turns.push({ endAt: lastLoud, latencyMs: start === undefined ? null : start - lastLoud });
      lastLoud = null;
    }
  }
  return turns;
}
