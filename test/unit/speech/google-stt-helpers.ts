/** Shared by google-stt-*.test.ts: GoogleStt on the real client against the local fake, never Google. */
import { pcmToMulaw } from '../../../src/audio/mulaw.ts';
import type { ListenContext, SpeechActivityEvent, Transcript } from '../../../src/speech/stt/engine.ts';
import { GoogleStt, type GoogleSttOptions, type GoogleSttStream } from '../../../src/speech/stt/google.ts';
import { startFakeSpeech, type FakeSpeech, type FakeSpeechScript } from '../../fakes/google-speech-server.ts';

export const FRAME = 160; // 20 ms at 8 kHz
export const CLOSED: ListenContext = {
  kind: 'closed',
  phrases: ['pizza', 'pasta', 'salad'],
  numbers: false,
  domain: ['pizza', 'pasta', 'salad', 'delivery'],
};

/** Frame `i`: a distinct level per frame, so the fake's bytes show exactly which frames arrived. */
export function frame(i: number): Int16Array {
  return new Int16Array(FRAME).fill(((i * 397) % 16000) - 8000);
}

export function mulawOf(from: number, to: number): Buffer {
  return Buffer.concat(Array.from({ length: to - from }, (_, k) => pcmToMulaw(frame(from + k))));
}

interface Run {
  fake: FakeSpeech;
  stt: GoogleStt;
  stream: GoogleSttStream;
  transcripts: Transcript[];
  errors: Error[];
  events: SpeechActivityEvent[];
  final: Promise<Transcript>;
  failed: Promise<Error>;
}

export const open: { fake: FakeSpeech; stt: GoogleStt }[] = [];

export async function start(
  script: FakeSpeechScript,
  options: GoogleSttOptions = {},
  context: ListenContext = CLOSED,
): Promise<Run> {
  const fake = await startFakeSpeech(script);
  const stt = new GoogleStt({ endpoint: { host: fake.host, port: fake.port }, ...options });
  open.push({ fake, stt });
  return listen(fake, stt, context);
}

/** A new recognition stream on an engine already started. */
export function listen(fake: FakeSpeech, stt: GoogleStt, context: ListenContext = CLOSED): Run {
  const transcripts: Transcript[] = [];
  const errors: Error[] = [];
  const events: SpeechActivityEvent[] = [];
  let onFinal: (t: Transcript) => void = () => {};
  let onFailed: (e: Error) => void = () => {};
  const final = new Promise<Transcript>((resolve) => (onFinal = resolve));
  const failed = new Promise<Error>((resolve) => (onFailed = resolve));
  const stream = stt.stream({
    context,
    onSpeechEvent: (e) => events.push(e),
    onTranscript: (t) => {
      transcripts.push(t);
      if (t.final) onFinal(t);
    },
    onError: (e) => {
      errors.push(e);
      onFailed(e);
    },
  });
  return { fake, stt, stream, transcripts, errors, events, final, failed };
}

/** The newest gRPC stream has reached the fake and its last audio so far is frame `i`. */
export function heardLast(run: Run, i: number): boolean {
  const last = run.fake.streams.at(-1);
  return (
    run.fake.streams.length === run.stream.grpcStreams &&
    last !== undefined &&
    last.audio.length > 0 &&
    Buffer.from(pcmToMulaw(frame(i))).equals(last.audio.at(-1)!)
  );
}

export async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function within<T>(promise: Promise<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Load the client once up front, so the first test's timing does not include it. */
export async function loadClient(): Promise<void> {
  await import('@google-cloud/speech');
}

/** Close every engine and fake a test opened. */
export async function closeOpened(): Promise<void> {
  for (const { fake, stt } of open) {
    await stt.close();
    await fake.close();
  }
}
