/**
 * A decoder process: one pocketsphinx decoder serving the streams the engine (pocketsphinx.ts) assigns it, one
 * utterance at a time. A process of its own, so a crash in the native library (it has crashed with SIGSEGV)
 * fails only the streams this decoder serves; the engine starts another. A stream's audio waits,
 * unacknowledged, while another stream's utterance holds the decoder, so the engine holds the rest (up to its
 * bound); once free, the decoder catches up faster than real time.
 */
import { SAMPLE_RATE } from '../../audio/frames.ts';
import { Resampler } from '../../audio/resample.ts';
import { ErrorCodes, SwitchboardError } from '../../errors.ts';
import type { DecoderFiles } from './decoder.ts';
import { Decoder, FEATURE_FRAME_MS } from './decoder.ts';
import { Pronunciations } from './dictionary.ts';
import type { SearchSpec } from './search.ts';
import { searchSpec } from './search.ts';
import { NUMBER_WORDS } from './words.ts';

/** The acoustic model's rate: calls' audio is upsampled to it. */
const DECODER_RATE = 16000;

export interface DecoderSetup {
  files: DecoderFiles;
  /** 8 kHz speech decoded once at start so the cepstral mean has adapted before the first caller. */
  warmUp: Int16Array | null;
  /** An utterance longer than this is finalized by the decoder, so no stream holds the decoder forever. */
  maxUtteranceSamples: number;
}

export type ToDecoder =
  /** The first message; nothing else is read before it. */
  | { type: 'setup'; setup: DecoderSetup }
  | { type: 'open'; stream: number; spec: SearchSpec }
  | { type: 'audio'; stream: number; at: number; samples: Int16Array }
  | { type: 'end'; stream: number; at: number }
  | { type: 'close'; stream: number };

export type FromDecoder =
  | { type: 'ready' }
  | { type: 'failed'; code: 'STT_UNAVAILABLE' | 'STT_FAILED'; detail: string; data: Record<string, unknown> }
  | { type: 'ack'; stream: number }
  | { type: 'final'; stream: number; text: string; confidence: number | null; startMs: number; endMs: number }
  | { type: 'error'; stream: number; detail: string; data: Record<string, unknown> };

interface StreamState {
  readonly id: number;
  readonly spec: SearchSpec;
  readonly queue: Extract<ToDecoder, { type: 'audio' | 'end' }>[];
  readonly upsampler: Resampler;
  /** 8 kHz sample index (from the stream's start) where the current utterance began and ends so far. */
  uttStart: number;
  uttEnd: number;
}

const send = process.send?.bind(process) ?? notForked();
function notForked(): never {
  throw new Error('pocketsphinx.child must be started with child_process.fork');
}

function post(message: FromDecoder, then?: () => void): void {
  send(message, undefined, undefined, then);
}

// A parent that dies, even by SIGKILL, closes the IPC channel: this process goes with it rather than linger.
process.on('disconnect', () => process.exit(0));
if (!process.connected) process.exit(0);
// Ctrl-C signals the whole process group, but a draining server still hears its calls: the engine (close()
// sends SIGTERM) or the parent's end decides when this process ends.
process.on('SIGINT', () => {});

function detailOf(err: unknown): {
  code: 'STT_UNAVAILABLE' | 'STT_FAILED';
  detail: string;
  data: Record<string, unknown>;
} {
  if (err instanceof SwitchboardError) {
    const prefix = `${ErrorCodes[err.code]}: `;
    const code = err.code === 'STT_UNAVAILABLE' ? 'STT_UNAVAILABLE' : 'STT_FAILED';
    return {
      code,
      detail: err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message,
      data: { ...err.data },
    };
  }
  return {
    code: 'STT_FAILED',
    detail: 'unexpected error in the decoder process',
    data: { error: String(err) },
  };
}

/** Set by the first message; everything else waits for it. */
let setup: DecoderSetup | undefined;
let dictionary: Pronunciations;
let decoder: Decoder;
/** Made on the first open question with no domain: it needs the whole dictionary loaded, which is slow. */
let generic: Decoder | undefined;

function configured(): DecoderSetup {
  if (!setup) throw new SwitchboardError('STT_FAILED', 'the decoder process has not been set up');
  return setup;
}

/** Loads the model and warms the decoder up; answers ready, or failed and exits. */
function start(given: DecoderSetup): void {
  setup = given;
  try {
    dictionary = Pronunciations.read(given.files.dictionary);
    decoder = Decoder.create(given.files, dictionary, { whole: false, initialWords: NUMBER_WORDS });
    warmUp(decoder, searchSpec({ kind: 'closed', phrases: [], numbers: true, domain: [] }));
  } catch (err) {
    setup = undefined;
    // Exits once the report is written, so the engine reads it before it sees the exit.
    post({ type: 'failed', ...detailOf(err) }, () => process.exit(0));
    return;
  }
  post({ type: 'ready' });
}

/** Decodes the warm-up audio once, for its effect on the running cepstral mean; the words do not matter. */
function warmUp(target: Decoder, spec: SearchSpec): void {
  const audio = setup?.warmUp;
  if (!audio || audio.length === 0) return;
  target.prepare(spec);
  target.start(spec.key);
  const up = new Resampler(SAMPLE_RATE, DECODER_RATE);
  target.process(up.process(audio));
  target.process(up.flush());
  target.finish();
}

function decoderFor(spec: SearchSpec): Decoder {
  if (spec.kind !== 'generic') return decoder;
  if (!generic) {
    generic = Decoder.create(configured().files, dictionary, { whole: true, initialWords: [] });
    warmUp(generic, spec);
  }
  return generic;
}

const streams = new Map<number, StreamState>();
/** The stream whose utterance is in the decoder, if any. */
let owner: StreamState | undefined;

function fail(state: StreamState, err: unknown): void {
  if (owner === state) {
    decoderFor(state.spec).abort();
    owner = undefined;
  }
  streams.delete(state.id);
  const { detail, data } = detailOf(err);
  post({ type: 'error', stream: state.id, detail, data });
}

function finalize(state: StreamState): void {
  const target = decoderFor(state.spec);
  target.process(state.upsampler.flush());
  const result = target.finish();
  owner = undefined;
  const base = (state.uttStart * 1000) / SAMPLE_RATE;
  const startMs = result.startFrame === null ? base : base + result.startFrame * FEATURE_FRAME_MS;
  const endMs =
    result.endFrame === null
      ? (state.uttEnd * 1000) / SAMPLE_RATE
      : base + (result.endFrame + 1) * FEATURE_FRAME_MS;
  post({ type: 'final', stream: state.id, text: result.text, confidence: result.confidence, startMs, endMs });
}

/** Feeds the owner's queued audio; when the decoder is free, gives it to the stream that has waited longest. */
function pump(): void {
  for (;;) {
    if (!owner) {
      const next = [...streams.values()].find((s) => s.queue.length > 0);
      if (!next) return;
      const first = next.queue[0]!;
      if (first.type === 'end') {
        // Nothing was heard since the last end: an empty final, without touching the decoder.
        next.queue.shift();
        const ms = (first.at * 1000) / SAMPLE_RATE;
        post({ type: 'final', stream: next.id, text: '', confidence: null, startMs: ms, endMs: ms });
        continue;
      }
      try {
        const target = decoderFor(next.spec);
        target.prepare(next.spec);
        target.start(next.spec.key);
      } catch (err) {
        fail(next, err);
        continue;
      }
      owner = next;
      next.uttStart = first.at;
      next.uttEnd = first.at;
    }
    const state = owner;
    const item = state.queue.shift();
    if (!item) return;
    try {
      if (item.type === 'end') {
        finalize(state);
        continue;
      }
      decoderFor(state.spec).process(state.upsampler.process(item.samples));
      state.uttEnd = item.at + item.samples.length;
      post({ type: 'ack', stream: state.id });
      if (state.uttEnd - state.uttStart >= configured().maxUtteranceSamples) finalize(state);
    } catch (err) {
      fail(state, err);
    }
  }
}

process.on('message', (message: ToDecoder) => {
  if (message.type === 'setup') {
    start(message.setup);
    return;
  }
  if (!setup) return;
  if (message.type === 'open') {
    const state: StreamState = {
      id: message.stream,
      spec: message.spec,
      queue: [],
      upsampler: new Resampler(SAMPLE_RATE, DECODER_RATE),
      uttStart: 0,
      uttEnd: 0,
    };
    streams.set(state.id, state);
    // Built now while the decoders are idle, so the first words wait for nothing; otherwise when it starts.
    if (owner) return;
    try {
      decoderFor(state.spec).prepare(state.spec);
    } catch (err) {
      fail(state, err);
    }
    return;
  }
  const state = streams.get(message.stream);
  if (!state) return;
  if (message.type === 'close') {
    if (owner === state) {
      decoderFor(state.spec).abort();
      owner = undefined;
    }
    streams.delete(state.id);
  } else {
    state.queue.push(message);
  }
  pump();
});
