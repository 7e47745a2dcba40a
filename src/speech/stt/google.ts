/**
 * Speech-to-text with Google Cloud Speech streaming recognition (v1, or v2 with `api: 'v2'`) through the official
 * client (@google-cloud/speech), loaded lazily on the first stream so a server that never uses it starts as fast.
 *
 * Phone audio goes up as 8 kHz mu-law (v1: `model: 'phone_call'`, enhanced; v2: `model: 'telephony'` through the
 * project's default recognizer `_`) with the flow's phrases as hints. The two APIs differ only in a small dialect
 * (first message, audio message, result end time, speech events); everything else below is shared. A gRPC
 * stream may carry only about 5 minutes of audio, and transient failures happen, so each recognition stream
 * restarts and re-sends what was not yet recognized (google-session.ts).
 *
 * Parts: google-dialect.ts (request config and phrase hints), google-session.ts (the streaming session and its
 * restarts), google-resend-ring.ts, google-errors.ts (error mapping). This file is the engine and its options.
 *
 * Used per turn like the embedded engine: Google's final results before endUtterance() are joined (and reported
 * as interim transcripts), and endUtterance() half-closes the stream and emits exactly one final transcript.
 */
import { SAMPLE_RATE } from '../../audio/frames.ts';
import { SwitchboardError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import { googleClientOptions, LazyClient, type GoogleEndpoint } from '../google.ts';
import type { RecognitionRequest, SttEngine } from './engine.ts';
import { v1Dialect, v2Dialect } from './google-dialect.ts';
import type { Dialect, StreamingSpeechClient } from './google-dialect.ts';
import { openGoogleStream } from './google-session.ts';
import type { GoogleSttStream } from './google-session.ts';
import type { RingTotals } from './google-resend-ring.ts';

export { GOOGLE_STT_MAX_PHRASE_CHARS, GOOGLE_STT_MAX_PHRASES, speechContexts } from './google-dialect.ts';
export { ResendRing } from './google-resend-ring.ts';
export type { GoogleSttStream } from './google-session.ts';

export interface GoogleSttOptions {
  /**
   * A plaintext gRPC endpoint (an emulator or a test fake; GOOGLE_API_ENDPOINT). With it, no credentials are
   * looked up; without it, the client talks TLS to Google with Application Default Credentials.
   */
  endpoint?: GoogleEndpoint;
  /** Speech API version; 'v1' unless given. v2 needs `project`. */
  api?: 'v1' | 'v2';
  /** Google Cloud project of the v2 recognizer (GOOGLE_CLOUD_PROJECT); required for v2, unused by v1. */
  project?: string;
  /** Location of the v2 recognizer; 'global' unless given. Unused by v1. */
  location?: string;
  /** BCP-47 language; 'en-US' unless given. A ListenContext's `language` overrides it per stream. */
  languageCode?: string;
  /** Recognition model; 'phone_call' (v1) or 'telephony' (v2) unless given. */
  model?: string;
  /** Audio one gRPC stream carries before it is replaced; 290 s unless given (Google stops at about 305 s). */
  streamLimitMs?: number;
  /** Audio kept for re-sending (unsent or not yet covered by a final result); 10 s unless given. */
  maxBufferedMs?: number;
  /** Transient gRPC failures retried in a row on a new stream; 2 unless given. */
  retries?: number;
  logger?: Logger;
}

const SAMPLES_PER_MS = SAMPLE_RATE / 1000;

export class GoogleStt implements SttEngine {
  readonly name = 'google';
  readonly #endpoint: GoogleEndpoint;
  readonly #api: 'v1' | 'v2';
  readonly #location: string;
  readonly #dialect: Dialect;
  readonly #limitSamples: number;
  readonly #maxSamples: number;
  readonly #retries: number;
  readonly #logger: Logger | undefined;
  readonly #client = new LazyClient(() => this.#createClient());
  #closed = false;
  readonly #streams = new Set<() => void>();
  readonly #totals: RingTotals = { dropped: 0, evicted: 0 };

  constructor(options: GoogleSttOptions = {}) {
    const streamLimitMs = options.streamLimitMs ?? 290_000;
    const maxBufferedMs = options.maxBufferedMs ?? 10_000;
    const retries = options.retries ?? 2;
    if (!(streamLimitMs >= 100) || !Number.isFinite(streamLimitMs)) {
      throw new SwitchboardError('CONFIG_INVALID', 'google stt streamLimitMs must be at least 100', {
        streamLimitMs,
      });
    }
    if (!(maxBufferedMs >= 20) || !Number.isFinite(maxBufferedMs)) {
      throw new SwitchboardError('CONFIG_INVALID', 'google stt maxBufferedMs must be at least 20', {
        maxBufferedMs,
      });
    }
    if (!Number.isInteger(retries) || retries < 0 || retries > 10) {
      throw new SwitchboardError('CONFIG_INVALID', 'google stt retries must be an integer from 0 to 10', {
        retries,
      });
    }
    const endpoint = options.endpoint ?? null;
    if (endpoint && (!endpoint.host || !Number.isInteger(endpoint.port) || endpoint.port < 1)) {
      throw new SwitchboardError('CONFIG_INVALID', 'google stt endpoint needs a host and a port', {
        endpoint,
      });
    }
    const api = options.api ?? 'v1';
    if (api !== 'v1' && api !== 'v2') {
      throw new SwitchboardError('CONFIG_INVALID', 'google stt api must be v1 or v2', { api });
    }
    const location = options.location ?? 'global';
    const project = options.project?.trim() ?? '';
    if (api === 'v2') {
      // Path segments of the recognizer's resource name: a slash or space would name another resource.
      if (!/^[A-Za-z0-9._:-]+$/.test(project)) {
        throw new SwitchboardError(
          'CONFIG_INVALID',
          'google stt v2 needs the Google Cloud project of its recognizer (GOOGLE_CLOUD_PROJECT)',
          { project: options.project ?? null },
        );
      }
      if (!/^[a-z0-9-]+$/.test(location)) {
        throw new SwitchboardError(
          'CONFIG_INVALID',
          'google stt location must be a location id such as global',
          {
            location,
          },
        );
      }
    }
    this.#endpoint = endpoint;
    this.#api = api;
    this.#location = location;
    const languageCode = options.languageCode ?? 'en-US';
    this.#dialect =
      api === 'v2'
        ? v2Dialect(
            `projects/${project}/locations/${location}/recognizers/_`,
            options.model ?? 'telephony',
            languageCode,
          )
        : v1Dialect(options.model ?? 'phone_call', languageCode);
    this.#limitSamples = Math.round(streamLimitMs * SAMPLES_PER_MS);
    this.#maxSamples = Math.round(maxBufferedMs * SAMPLES_PER_MS);
    this.#retries = retries;
    this.#logger = options.logger;
  }
  /** Frames every stream dropped before sending them, because Google was behind (the ring was full). */
  get droppedFrames(): number {
    return this.#totals.dropped;
  }

  /** Frames sent once but pushed out of a ring before a final result covered them (lost only on a restart). */
  get evictedFrames(): number {
    return this.#totals.evicted;
  }

  stream(req: RecognitionRequest): GoogleSttStream {
    return openGoogleStream(
      {
        client: () => this.#client.get(),
        dialect: this.#dialect,
        limitSamples: this.#limitSamples,
        maxSamples: this.#maxSamples,
        retries: this.#retries,
        logger: this.#logger,
        streams: this.#streams,
        closed: this.#closed,
        totals: this.#totals,
      },
      req,
    );
  }

  async #createClient(): Promise<StreamingSpeechClient> {
    try {
      const mod = await import('@google-cloud/speech');
      const options = await googleClientOptions(this.#endpoint);
      // v2 recognizers outside `global` are served only by their region's endpoint.
      if (!this.#endpoint && this.#api === 'v2' && this.#location !== 'global') {
        options.apiEndpoint = `${this.#location}-speech.googleapis.com`;
      }
      return this.#dialect.client(mod, options);
    } catch (err) {
      // Not kept by LazyClient: the next stream tries again.
      throw new SwitchboardError(
        'STT_UNAVAILABLE',
        'could not load the google speech client',
        {},
        { cause: err },
      );
    }
  }

  /** Cancels every open stream and closes the client; later streams fail. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const cancel of [...this.#streams]) cancel();
    await this.#client.close();
  }
}
