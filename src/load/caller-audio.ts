/**
 * What the load callers say, prepared once for every call: each utterance as base64 payloads of 20 ms frames, its
 * silence cut on both sides so the last frame sent is the end of speech the turn latency is measured from.
 */
import { readFile } from 'node:fs/promises';
import { framesToBase64, pcmToMulaw, readWav, resample, SAMPLE_RATE, trimSilence } from '../audio/index.ts';
import { FliteTts } from '../speech/tts/flite.ts';
import type { CallerSpeech } from './options.ts';

/** Utterances, each as the base64 payloads of its frames; none for silent callers. */
export type Utterances = readonly (readonly string[])[];

/** Mu-law audio as frames, without the silence around it (a little kept before, so the onset is not clipped). */
export function utteranceFrames(mulaw: Uint8Array): string[] {
  return framesToBase64(trimSilence(mulaw, { keepLeadMs: 30, keepTrailMs: 0 }));
}

/** Reads or synthesizes what callers say; throws when the WAV cannot be read or flite fails. */
export async function prepareUtterances(speech: CallerSpeech): Promise<Utterances> {
  if (speech.kind === 'silence') return [];
  if (speech.kind === 'wav') {
    const wav = readWav(await readFile(speech.path));
    const pcm =
      wav.sampleRate === SAMPLE_RATE ? wav.samples : resample(wav.samples, wav.sampleRate, SAMPLE_RATE);
    return [utteranceFrames(pcmToMulaw(pcm))];
  }
  const tts = new FliteTts({ voice: speech.voice });
  try {
    const out: string[][] = [];
    for (const text of speech.lines) out.push(utteranceFrames((await tts.synthesize({ text })).mulaw));
    return out;
  } finally {
    await tts.close();
  }
}
