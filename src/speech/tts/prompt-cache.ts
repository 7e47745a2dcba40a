/**
 * Synthesised prompts shared by every call. Flows say the same sentences over and over, so each (engine, voice,
 * text) is synthesised once, trimmed of excess silence at its edges, its Twilio frames are base64-encoded once,
 * and later calls send them as they are.
 */
import { createHash } from 'node:crypto';
import { durationMs, framesToBase64 } from '../../audio/frames.ts';
import { trimSilence } from '../../audio/trim.ts';
import { abortReason, withAbort } from '../abort.ts';
import type { SynthesizedAudio, TtsEngine } from './engine.ts';

export interface Prompt {
  /** Stable and log-safe: engine, voice and a hash of the text (never the text itself). */
  readonly key: string;
  /** 8 kHz mono mu-law. */
  readonly mulaw: Uint8Array;
  /** One base64 payload per 20 ms frame of `mulaw`, the last one padded with silence. */
  readonly frames: readonly string[];
  readonly durationMs: number;
}

export interface PromptCacheStats {
  /** Lookups served without starting a synthesis (cached, or joined one already running). */
  hits: number;
  /** Lookups that started a synthesis. */
  misses: number;
  entries: number;
  /** mu-law bytes plus base64 characters held. */
  bytes: number;
}

export interface PromptCacheOptions {
  /** Budget for mu-law bytes plus base64 characters; least recently used prompts go first. Default 64 MiB. */
  maxBytes?: number;
}

interface Entry {
  readonly prompt: Prompt;
  readonly size: number;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/** An LRU cache of synthesised prompts in front of one TTS engine. */
export class PromptCache {
  readonly #engine: TtsEngine;
  readonly #maxBytes: number;
  // A Map iterates in insertion order: re-inserting on each hit keeps the least recently used first.
  readonly #entries = new Map<string, Entry>();
  readonly #inFlight = new Map<string, Promise<Prompt>>();
  readonly #stats: PromptCacheStats = { hits: 0, misses: 0, entries: 0, bytes: 0 };

  constructor(engine: TtsEngine, options: PromptCacheOptions = {}) {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    if (!(maxBytes >= 0)) throw new RangeError('maxBytes must be a number >= 0');
    this.#engine = engine;
    this.#maxBytes = maxBytes;
  }

  /** A snapshot of the counters. */
  get stats(): PromptCacheStats {
    return { ...this.#stats };
  }

  /**
   * The prompt for `text` in `voice` (the engine's default when absent), synthesised at most once at a time.
   * Aborting `signal` rejects only this caller: a synthesis others wait for goes on, and is cached.
   */
  get(text: string, voice?: string, signal?: AbortSignal): Promise<Prompt> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const v = voice ?? this.#engine.defaultVoice;
    const key = promptKey(this.#engine.name, v, text);

    const entry = this.#entries.get(key);
    if (entry) {
      this.#stats.hits++;
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      return Promise.resolve(entry.prompt);
    }

    let shared = this.#inFlight.get(key);
    if (shared) {
      this.#stats.hits++;
    } else {
      this.#stats.misses++;
      // No caller's signal goes to the engine: one caller giving up must not cancel the others' audio.
      // Wrapped so that an engine throwing instead of rejecting still yields a rejected promise.
      const synthesis = new Promise<SynthesizedAudio>((resolve) =>
        resolve(this.#engine.synthesize({ text, voice: v })),
      );
      shared = synthesis.then(
        (audio) => {
          this.#inFlight.delete(key);
          return this.#store(key, audio);
        },
        (err: unknown) => {
          // Not cached: the next request tries again.
          this.#inFlight.delete(key);
          throw err;
        },
      );
      // Every caller may have gone (aborted) by the time it settles; that is not an unhandled rejection.
      shared.catch(noop);
      this.#inFlight.set(key, shared);
    }
    return signal ? withAbort(shared, signal) : shared;
  }

  #store(key: string, audio: SynthesizedAudio): Prompt {
    // Engines pad speech with silence; played back to back, sentence after sentence, it would add up.
    const mulaw = trimSilence(audio.mulaw);
    const frames = Object.freeze(framesToBase64(mulaw));
    const prompt: Prompt = Object.freeze({ key, mulaw, frames, durationMs: durationMs(mulaw.length) });
    let size = mulaw.byteLength;
    for (const f of frames) size += f.length;
    // A prompt larger than the whole budget is handed out but not kept.
    if (size > this.#maxBytes) return prompt;
    const previous = this.#entries.get(key);
    if (previous) {
      this.#entries.delete(key);
      this.#stats.bytes -= previous.size;
    }
    this.#entries.set(key, { prompt, size });
    this.#stats.bytes += size;
    for (const [oldKey, old] of this.#entries) {
      if (this.#stats.bytes <= this.#maxBytes) break;
      this.#entries.delete(oldKey);
      this.#stats.bytes -= old.size;
    }
    this.#stats.entries = this.#entries.size;
    return prompt;
  }
}

/** Cache key: engine and voice in the clear, the text as a SHA-256 so keys can appear in logs. */
function promptKey(engine: string, voice: string, text: string): string {
  const digest = createHash('sha256').update(text).digest('base64url');
  return `${encodeURIComponent(engine)}:${encodeURIComponent(voice)}:${digest}`;
}

function noop(): void {}
