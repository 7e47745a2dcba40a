/**
 * Test double for a TTS engine: a 440 Hz tone, 60 ms per character of text, as 8 kHz mu-law. Instant unless
 * told to wait, and it can be told to fail, so tests that need prompts but not speech stay fast and exact.
 */
import { durationMs, SAMPLE_RATE } from '../../src/audio/frames.ts';
import { pcmToMulaw } from '../../src/audio/mulaw.ts';
import { SwitchboardError } from '../../src/errors.ts';
import type { SynthesisRequest, SynthesizedAudio, TtsEngine } from '../../src/speech/tts/engine.ts';

/** Milliseconds of tone per character of text. */
export const TONE_MS_PER_CHAR = 60;
export const TONE_HZ = 440;

export class ToneTts implements TtsEngine {
  readonly name = 'tone';
  readonly defaultVoice = 'sine';
  readonly readsSsml: boolean = false;
  /** synthesize() calls so far, including those that failed or were aborted. */
  calls = 0;
  /** Every request received, in order. */
  readonly requests: SynthesisRequest[] = [];
  /** Each synthesis waits this long before answering (abortable). */
  delayMs = 0;
  closed = false;
  #failures = 0;
  readonly #msPerChar: number;

  /** `msPerChar` shortens the tones for tests that walk whole flows in real time. */
  constructor(options: { msPerChar?: number } = {}) {
    this.#msPerChar = options.msPerChar ?? TONE_MS_PER_CHAR;
  }

  /** Make the next `n` calls reject with TTS_FAILED. */
  failNext(n = 1): void {
    this.#failures += n;
  }

  /** A tone of `msPerChar` (TONE_MS_PER_CHAR unless told) per character of `req.text`; see TtsEngine. */
  async synthesize(req: SynthesisRequest): Promise<SynthesizedAudio> {
    this.calls++;
    this.requests.push(req);
    if (this.closed) throw new SwitchboardError('TTS_FAILED', 'tone engine is closed');
    if (this.#failures > 0) {
      this.#failures--;
      throw new SwitchboardError('TTS_FAILED', 'tone engine told to fail');
    }
    if (this.delayMs > 0) await sleep(this.delayMs, req.signal);
    req.signal?.throwIfAborted();
    const mulaw = toneMulaw(req.text.length * this.#msPerChar);
    return { mulaw, durationMs: durationMs(mulaw.length) };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** `ms` of a half-scale 440 Hz sine as 8 kHz mu-law. */
export function toneMulaw(ms: number): Uint8Array {
  const n = Math.round((ms * SAMPLE_RATE) / 1000);
  const pcm = new Int16Array(n);
  for (let i = 0; i < n; i++)
    pcm[i] = Math.round(16000 * Math.sin((2 * Math.PI * TONE_HZ * i) / SAMPLE_RATE));
  return pcmToMulaw(pcm);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
