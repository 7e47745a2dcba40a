/**
 * The contract every speech-to-text engine meets (offline pocketsphinx, Google Cloud Speech-to-Text; the list is
 * ../registry.ts), so calls never depend on which engine hears the caller. Audio goes in as the wire format
 * Twilio sends: 8 kHz mono 16-bit PCM frames (decoded from G.711 mu-law by the caller), normally 20 ms each.
 */

/**
 * What a flow state expects to hear, built from the flow: it lets an engine narrow its search (a grammar of
 * expected phrases for a closed question, a language model of the flow's domain for an open one).
 */
export interface ListenContext {
  /**
   * `closed`: the caller is expected to say one of `phrases` (a menu choice, yes or no, a value of an entity);
   * `open`: anything in the flow's domain (`domain`), as when an intent model decides what it meant.
   */
  kind: 'closed' | 'open';
  /** Phrases expected in this state: the examples of the intents it handles, entity values and synonyms. */
  phrases: readonly string[];
  /**
   * Number words belong in the search: `true` where amounts, dates or times may be said ("twenty two", "half past
   * ten"); `'digits'` where a string of digits is said one by one (zero to nine, "oh", "double five"), so a
   * digit is never heard as "ten" or "hundred"; false where no number is expected.
   */
  numbers: boolean | 'digits';
  /**
   * With `numbers: 'digits'`, how many digits the string has when the state knows (a 7-digit prescription
   * number): an engine that can will hear exactly that many rather than a digit more or less.
   */
  digitCount?: DigitCount;
  /** Every phrase of the flow (all intents' examples, all entity values): the vocabulary of an open question. */
  domain: readonly string[];
  /** BCP-47 language of this turn (e.g. 'fr-FR'), over the engine's default; engines that cannot switch ignore it. */
  language?: string;
}

/** The length of an expected digit string, `min` to `max` digits. */
export interface DigitCount {
  min: number;
  max: number;
}

/** The engine's own voice activity detection: informational, see RecognitionRequest.onSpeechEvent. */
export interface SpeechActivityEvent {
  type: 'speech-begin' | 'speech-end';
  /** Milliseconds from the start of the recognition stream's audio, like transcript times. */
  atMs: number;
}

export interface Transcript {
  text: string;
  /** False while the engine may still revise it (an interim result). */
  final: boolean;
  /** 0..1 where the engine reports it; null otherwise. */
  confidence: number | null;
  /** Milliseconds of audio, from the start of the stream, that the transcript covers. */
  startMs: number;
  endMs: number;
}

export interface RecognitionStream {
  /**
   * Push one frame of 8 kHz 16-bit PCM. Never blocks on decoding; frames past the engine's bound are dropped.
   * The engine copies what it keeps: the caller may reuse the array once write returns.
   */
  write(pcm: Int16Array): void;
  /**
   * The caller stopped speaking (end of turn, decided by voice activity): the engine finalizes what it heard
   * and emits a final transcript (possibly empty text).
   */
  endUtterance(): void;
  /** Stops recognition and frees the stream; pending results are dropped. */
  close(): void;
}

export interface RecognitionRequest {
  context: ListenContext;
  onTranscript: (transcript: Transcript) => void;
  /** A failure of this stream (the engine lives on); recognition has stopped when it is called. */
  onError: (err: Error) => void;
  /** Aborting closes the stream. */
  signal?: AbortSignal;
  /**
   * Speech began or ended, as the engine's service detected it (Google STT v2), where the engine reports it.
   * Informational only (logs, metrics): turn-taking and barge-in stay on the local VAD, which needs no network
   * round trip.
   */
  onSpeechEvent?: (event: SpeechActivityEvent) => void;
}

export interface SttEngine {
  readonly name: string;
  /** Starts recognizing one caller's speech. */
  stream(req: RecognitionRequest): RecognitionStream;
  /** Frees the engine's resources (decoders and their processes); later streams fail. */
  close(): Promise<void>;
}
