/**
 * Synthesised prompts shared by every call. Flows say the same sentences over and over, so each (engine, voice,
 * language, text or SSML) is synthesised once, trimmed of excess silence at its edges, its Twilio frames are
 * base64-encoded once, and later calls send them as they are. With a folder, prompts are also kept on disk
 * (prompt-store.ts), so a restarted server, or another on the same machine, does not synthesise them again: only
 * those `persist` allows, as words may hold a caller's data (call/shareable-prompts.ts decides for a server).
 */
import { createHash } from 'node:crypto';
import { durationMs, framesToBase64 } from '../../audio/frames.ts';
import { trimSilence } from '../../audio/trim.ts';
import { abortReason, withAbort } from '../abort.ts';
import type { Logger } from '../../observability/logger.ts';
import type { SynthesisRequest, SynthesizedAudio, TtsEngine } from './engine.ts';
import { PromptStore } from './prompt-store.ts';

export interface Prompt {
  /** Stable and log-safe: engine, voice, language, text or SSML, and a hash of the words (never the words). */
  readonly key: string;
  /** 8 kHz mono mu-law. */
  readonly mulaw: Uint8Array;
  /** One base64 payload per 20 ms frame of `mulaw`, the last one padded with silence. */
  readonly frames: readonly string[];
  readonly durationMs: number;
}

export interface PromptCacheStats {
  /** Lookups served without starting a synthesis: from memory, from disk, or joining a lookup already running. */
  hits: number;
  /** Lookups that started a synthesis (found neither in memory nor on disk). */
  misses: number;
  /** Lookups whose prompt was read from disk (counted in `hits` too). */
  diskHits: number;
  /** Prompts written to disk. */
  diskWrites: number;
  /** Prompts in memory. */
  entries: number;
  /** mu-law bytes plus base64 characters held in memory. */
  bytes: number;
}

export interface PromptCacheOptions {
  /** Budget for mu-law bytes plus base64 characters; least recently used prompts go first. Default 64 MiB. */
  maxBytes?: number;
  /** A folder (created if missing) where prompts are also kept, across restarts and shared between processes. */
  dir?: string;
  /** Budget for the files in `dir`; least recently used go first. Default 256 MiB. */
  maxDiskBytes?: number;
  /**
   * Whether a prompt with these words may be kept in `dir`: only words that hold no caller data. The others are
   * neither read from nor written to disk. None may unless given.
   */
  persist?: (text: string) => boolean;
  /** For disk failures, which never fail a prompt. */
  logger?: Logger;
}

/** One prompt to get: the words, and how to say them. */
export interface PromptCacheRequest {
  /** Plain text; what engines that do not read SSML speak. */
  text: string;
  /** The same words as SSML; used instead of `text` when the engine reads SSML. */
  ssml?: string;
  /** The engine's default voice when absent. */
  voice?: string;
  /** BCP-47; the engine's default when absent. */
  language?: string;
}

interface Entry {
  readonly prompt: Prompt;
  readonly size: number;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/** An LRU cache of synthesised prompts in front of one TTS engine, optionally backed by a folder. */
export class PromptCache {
  readonly #engine: TtsEngine;
  readonly #maxBytes: number;
  readonly #disk: PromptStore | undefined;
  readonly #persist: (text: string) => boolean;
  // A Map iterates in insertion order: re-inserting on each hit keeps the least recently used first.
  readonly #entries = new Map<string, Entry>();
  /** Lookups in progress, disk read to end of synthesis, so each key is looked up once at a time. */
  readonly #inFlight = new Map<string, Promise<Prompt>>();
  readonly #stats: PromptCacheStats = {
    hits: 0,
    misses: 0,
    diskHits: 0,
    diskWrites: 0,
    entries: 0,
    bytes: 0,
  };

  constructor(engine: TtsEngine, options: PromptCacheOptions = {}) {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    if (!(maxBytes >= 0)) throw new RangeError('maxBytes must be a number >= 0');
    this.#engine = engine;
    this.#maxBytes = maxBytes;
    this.#persist = options.persist ?? (() => false);
    if (options.dir !== undefined) {
      this.#disk = new PromptStore(options.dir, { maxBytes: options.maxDiskBytes, logger: options.logger });
    }
  }

  /** Whether a request's `ssml` is used: the engine reads SSML. */
  get readsSsml(): boolean {
    return this.#engine.readsSsml;
  }

  /** A snapshot of the counters. */
  get stats(): PromptCacheStats {
    return { ...this.#stats };
  }

  /**
   * The prompt for `req` (its SSML when given and the engine reads SSML, else its text), synthesised at most once
   * at a time. Aborting `signal` rejects only this caller: a synthesis others wait for goes on, and is cached.
   */
  get(req: PromptCacheRequest, signal?: AbortSignal): Promise<Prompt> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const synthesis: SynthesisRequest = { text: req.text, voice: req.voice ?? this.#engine.defaultVoice };
    if (req.ssml !== undefined && this.#engine.readsSsml) synthesis.ssml = req.ssml;
    if (req.language !== undefined) synthesis.language = req.language;
    const key = promptKey(this.#engine.name, synthesis);

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
      shared = this.#load(key, synthesis).finally(() => this.#inFlight.delete(key));
      // Every caller may have gone (aborted) by the time it settles; that is not an unhandled rejection.
      shared.catch(noop);
      this.#inFlight.set(key, shared);
    }
    return signal ? withAbort(shared, signal) : shared;
  }

  /** Resolves once the disk writes started so far are done (tests, and a clean shutdown). */
  async flush(): Promise<void> {
    await this.#disk?.flush();
  }

  /** From disk when there, else from the engine (then written to disk in the background). */
  async #load(key: string, req: SynthesisRequest): Promise<Prompt> {
    const disk = this.#disk !== undefined && this.#persist(req.text) ? this.#disk : undefined;
    if (disk) {
      const mulaw = await disk.read(key);
      if (mulaw) {
        this.#stats.hits++;
        this.#stats.diskHits++;
        return this.#store(key, { mulaw, durationMs: durationMs(mulaw.length) });
      }
    }
    this.#stats.misses++;
    // No caller's signal goes to the engine: one caller giving up must not cancel the others' audio.
    const audio = await this.#engine.synthesize(req);
    if (disk) {
      void disk.write(key, audio.mulaw).then((written) => {
        if (written) this.#stats.diskWrites++;
      });
    }
    return this.#store(key, audio);
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

/**
 * Cache key: engine, voice and language in the clear (`-` for the engine's default language), whether the words
 * are SSML or text, and the words as a SHA-256, so that keys can appear in logs and file names.
 */
function promptKey(engine: string, req: SynthesisRequest): string {
  const kind = req.ssml !== undefined ? 'ssml' : 'text';
  const digest = createHash('sha256')
    .update(req.ssml ?? req.text)
    .digest('base64url');
  const language = req.language !== undefined ? encodeURIComponent(req.language) : '-';
  return `${encodeURIComponent(engine)}:${encodeURIComponent(req.voice ?? '')}:${language}:${kind}:${digest}`;
}

function noop(): void {}
