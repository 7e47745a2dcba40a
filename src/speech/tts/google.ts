/**
 * Text-to-speech with Google Cloud's v1 API through the official client (@google-cloud/text-to-speech). The client
 * and its gRPC stack take a while to load, so the module is imported lazily, on the first synthesis: a server that
 * never speaks through Google starts as fast as one without it. Google answers MULAW 8 kHz requests with a WAV
 * file, not bare samples, so the RIFF chunks are walked to `data` (never cut at a fixed 44 bytes) and the fmt
 * chunk is checked, since anything but 8 kHz mono mu-law would play as noise on the phone.
 */
import type { TextToSpeechClient } from '@google-cloud/text-to-speech';
import { SAMPLE_RATE } from '../../audio/frames.ts';
import { SwitchboardError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import { abortReason, withAbort } from '../abort.ts';
import {
  googleClientOptions,
  LazyClient,
  grpcCodeName,
  grpcCodeOf,
  RETRYABLE_GRPC_CODES,
  type GoogleEndpoint,
} from '../google.ts';
import type { SynthesisRequest, SynthesizedAudio, TtsEngine, TtsShed } from './engine.ts';

export interface GoogleTtsOptions {
  /**
   * A plaintext gRPC endpoint (an emulator or a test fake; GOOGLE_API_ENDPOINT). With it, no credentials are
   * looked up; without it, the client talks TLS to Google with Application Default Credentials.
   */
  endpoint?: GoogleEndpoint;
  /** Default voice name; 'en-US-Standard-C' unless given. */
  voice?: string;
  /** BCP-47 language of the voice; 'en-US' unless given. */
  languageCode?: string;
  /** Deadline of one request; 5000 ms unless given. */
  timeoutMs?: number;
  /** Requests in flight at once; past it a request is refused (TTS_FAILED). GOOGLE_TTS_MAX_IN_FLIGHT unless given. */
  maxInFlight?: number;
  logger?: Logger;
}

/** Google's limit on one request's input, in bytes. */
export const GOOGLE_TTS_MAX_INPUT_BYTES = 5000;

/** Requests in flight at once: more means Google (or the network) is behind, and waiting would not help. */
export const GOOGLE_TTS_MAX_IN_FLIGHT = 256;

/** gRPC DEADLINE_EXCEEDED: the answer did not come within timeoutMs. */
const DEADLINE_EXCEEDED = 4;

/** What one request speaks: exactly one of the two. */
type Input = { text: string; ssml?: undefined } | { ssml: string; text?: undefined };

const DEFAULT_VOICE = 'en-US-Standard-C';
const DEFAULT_LANGUAGE = 'en-US';
const DEFAULT_TIMEOUT_MS = 5000;

/** Google Cloud Text-to-Speech as a TtsEngine; the client is created on first use and shared by all requests. */
export class GoogleTts implements TtsEngine {
  readonly name = 'google';
  readonly defaultVoice: string;
  readonly readsSsml = true;
  readonly #languageCode: string;
  readonly #timeoutMs: number;
  readonly #endpoint: GoogleEndpoint;
  readonly #logger: Logger | undefined;
  readonly #client = new LazyClient(() => this.#createClient());
  readonly #maxInFlight: number;
  #inFlight = 0;
  readonly #shed: TtsShed = { queueFull: 0, waitedTooLong: 0 };
  #closed = false;

  constructor(options: GoogleTtsOptions = {}) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      throw new SwitchboardError('CONFIG_INVALID', 'google tts timeoutMs must be a positive number', {
        timeoutMs,
      });
    }
    const maxInFlight = options.maxInFlight ?? GOOGLE_TTS_MAX_IN_FLIGHT;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
      throw new SwitchboardError('CONFIG_INVALID', 'google tts maxInFlight must be an integer >= 1', {
        maxInFlight,
      });
    }
    this.#maxInFlight = maxInFlight;
    const endpoint = options.endpoint ?? null;
    if (endpoint && (!endpoint.host || !Number.isInteger(endpoint.port) || endpoint.port < 1)) {
      throw new SwitchboardError('CONFIG_INVALID', 'google tts endpoint needs a host and a port', {
        endpoint,
      });
    }
    this.defaultVoice = options.voice ?? DEFAULT_VOICE;
    this.#languageCode = options.languageCode ?? DEFAULT_LANGUAGE;
    this.#timeoutMs = timeoutMs;
    this.#endpoint = endpoint;
    this.#logger = options.logger;
  }

  /** Speak `req.ssml` when given, else `req.text`, as 8 kHz mu-law; see TtsEngine. */
  async synthesize(req: SynthesisRequest): Promise<SynthesizedAudio> {
    if (this.#closed) throw closedError();
    const { signal } = req;
    const voice = req.voice ?? this.defaultVoice;
    const languageCode = req.language ?? this.#languageCode;
    const input: Input = req.ssml !== undefined ? { ssml: req.ssml } : { text: req.text };
    const content = input.ssml ?? input.text;
    const kind = input.ssml !== undefined ? 'ssml' : 'text';
    if (typeof content !== 'string' || content.trim() === '')
      throw new SwitchboardError('TTS_FAILED', `${kind} is empty`);
    // The limit applies to what is sent: SSML markup counts.
    const bytes = Buffer.byteLength(content);
    if (bytes > GOOGLE_TTS_MAX_INPUT_BYTES) {
      throw new SwitchboardError(
        'TTS_FAILED',
        `${kind} is ${bytes} bytes, over Google's limit of ${GOOGLE_TTS_MAX_INPUT_BYTES}`,
        { bytes },
      );
    }
    if (signal?.aborted) throw abortReason(signal);
    if (this.#inFlight >= this.#maxInFlight) {
      this.#shed.queueFull++;
      throw new SwitchboardError('TTS_FAILED', `${this.#inFlight} google tts requests in flight already`, {
        inFlight: this.#inFlight,
      });
    }

    const started = performance.now();
    this.#inFlight++;
    // Counted until Google answers, even when the caller gave up first: the request is still out there.
    const work = this.#request(input, voice, languageCode).finally(() => this.#inFlight--);
    // Google cannot be told to stop through the client's promise API; an aborted request's audio is dropped.
    const audio = signal ? await withAbort(work, signal) : await work;
    this.#logger?.debug('google tts synthesized', {
      voice,
      languageCode,
      ssml: kind === 'ssml',
      bytes: audio.mulaw.length,
      ms: Math.round(performance.now() - started),
    });
    return audio;
  }

  async #request(input: Input, voice: string, languageCode: string): Promise<SynthesizedAudio> {
    const client = await this.#client.get();
    let content: Uint8Array | string | null | undefined;
    try {
      const [response] = await client.synthesizeSpeech(
        {
          input,
          voice: { languageCode, name: voice },
          audioConfig: { audioEncoding: 'MULAW', sampleRateHertz: SAMPLE_RATE },
        },
        // No retries inside the client: its defaults retry for up to 10 minutes, far past a caller on the line.
        // The error says whether a retry makes sense, and the caller decides.
        { timeout: this.#timeoutMs, retry: null },
      );
      content = response.audioContent;
    } catch (err) {
      throw this.#failure(err, input.ssml ?? input.text ?? '', voice);
    }
    const audio =
      typeof content === 'string' ? Buffer.from(content, 'base64') : (content ?? new Uint8Array(0));
    const mulaw = mulawFromGoogleAudio(audio);
    return { mulaw, durationMs: mulaw.length / 8 };
  }

  /** Requests refused because Google was behind: too many in flight, or no answer within timeoutMs. */
  get shed(): TtsShed {
    return { ...this.#shed };
  }

  #failure(err: unknown, text: string, voice: string): SwitchboardError {
    if (err instanceof SwitchboardError) return err;
    const grpcCode = grpcCodeOf(err);
    if (grpcCode === DEADLINE_EXCEEDED) this.#shed.waitedTooLong++;
    const codeName = grpcCodeName(grpcCode);
    const retryable = grpcCode !== undefined && RETRYABLE_GRPC_CODES.has(grpcCode);
    // Google's details can quote the input (an SSML parse error, say): they stay out of the message.
    const details = (err as { details?: unknown } | null)?.details ?? (err as Error | null)?.message;
    this.#logger?.warn('google tts request failed', {
      grpcCode,
      retryable,
      voice,
      pii: { text, details },
    });
    return new SwitchboardError(
      'TTS_FAILED',
      `google text-to-speech answered ${codeName}`,
      { grpcCode, voice, pii: { details } },
      { cause: err, retryable },
    );
  }

  /**
   * Load the client now rather than on the first prompt: the server calls this at start-up when Google is the
   * chosen engine, so the first caller does not wait for the module (about 300 ms). Sends no request.
   */
  async warmUp(): Promise<void> {
    await this.#client.get();
  }

  async #createClient(): Promise<TextToSpeechClient> {
    try {
      const mod = await import('@google-cloud/text-to-speech');
      const Client = mod.TextToSpeechClient ?? mod.default.TextToSpeechClient;
      return new Client(await googleClientOptions(this.#endpoint));
    } catch (err) {
      // Not kept by LazyClient: the next request tries again.
      throw new SwitchboardError(
        'TTS_FAILED',
        'could not load the google text-to-speech client',
        {},
        { cause: err },
      );
    }
  }

  /** Close the client (if it was ever made); later requests reject. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#client.close();
  }
}

/**
 * The mu-law samples in Google's answer: a WAV file's `data` chunk after checking its fmt chunk, or the bytes as
 * they are when there is no RIFF header; always a fresh copy. Throws TTS_FAILED for a WAV file in any other format.
 */
export function mulawFromGoogleAudio(audio: Uint8Array): Uint8Array {
  if (audio.length === 0) throw new SwitchboardError('TTS_FAILED', 'google returned no audio');
  if (audio.length < 12 || fourcc(audio, 0) !== 'RIFF') return new Uint8Array(audio);
  if (fourcc(audio, 8) !== 'WAVE') throw badWav('RIFF form is not WAVE');
  const view = new DataView(audio.buffer, audio.byteOffset, audio.byteLength);
  let fmtChecked = false;
  let offset = 12;
  while (offset + 8 <= audio.length) {
    const id = fourcc(audio, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + size > audio.length) throw badWav(`fmt chunk of ${size} bytes`);
      const format = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const sampleRate = view.getUint32(body + 4, true);
      const bits = view.getUint16(body + 14, true);
      if (format !== 7 || channels !== 1 || sampleRate !== SAMPLE_RATE || bits !== 8) {
        throw badWav(
          `audio is format ${format}, ${sampleRate} Hz, ${channels} channel(s), ${bits} bits; expected format 7 (mu-law), 8000 Hz, 1 channel, 8 bits`,
          { format, sampleRate, channels, bits },
        );
      }
      fmtChecked = true;
    } else if (id === 'data') {
      if (!fmtChecked) throw badWav('data chunk before any fmt chunk');
      // A streaming writer may leave the size unset (0xFFFFFFFF) or too large: the data then runs to the end.
      const end = Math.min(body + size, audio.length);
      // A copy, as a plain Uint8Array: the response Buffer may be a slice of a larger one a cached prompt would pin.
      return new Uint8Array(audio.subarray(body, end));
    }
    // Chunks are word-aligned: an odd-sized chunk is followed by a pad byte.
    offset = body + size + (size & 1);
  }
  throw badWav(fmtChecked ? 'no data chunk' : 'no fmt chunk');
}

function badWav(detail: string, data: Record<string, unknown> = {}): SwitchboardError {
  return new SwitchboardError('TTS_FAILED', `google returned an unusable WAV file: ${detail}`, data);
}

function fourcc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}

function closedError(): SwitchboardError {
  return new SwitchboardError('TTS_FAILED', 'engine is closed');
}
