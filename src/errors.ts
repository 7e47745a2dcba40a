/**
 * Every error code Switchboard can raise, in one place, so logs, HTTP answers and tests name them the same way.
 * The message says what went wrong in plain words; personal data never goes into it, only into `data`.
 */
export const ErrorCodes = {
  // Twilio Media Streams protocol (inbound websocket messages)
  MEDIA_BAD_JSON: 'Message is not valid JSON',
  MEDIA_BAD_MESSAGE: 'Message does not match the Media Streams protocol',
  MEDIA_UNKNOWN_EVENT: 'Unknown Media Streams event',
  MEDIA_BAD_PAYLOAD: 'Media payload is not valid base64 mu-law audio',
  MEDIA_TOO_LARGE: 'Message exceeds the size limit',
  MEDIA_OUT_OF_ORDER: 'Message arrived in a state of the stream where it is not allowed',
  MEDIA_NO_START: 'The stream sent no start message in time after it opened',
  MEDIA_IDLE: 'The stream sent nothing for too long and was taken as dropped',
  DTMF_FLOOD: 'Keys came faster than a caller can press them: the excess was dropped',
  // HTTP edge
  HTTP_FORBIDDEN: 'Request signature is missing or invalid',
  HTTP_UNAUTHORIZED: 'Credentials are missing or wrong',
  HTTP_NOT_FOUND: 'No such route',
  HTTP_METHOD_NOT_ALLOWED: 'Method not allowed on this route',
  HTTP_BODY_TOO_LARGE: 'Request body exceeds the size limit',
  HTTP_BAD_BODY: 'Request body could not be parsed',
  HTTP_DRAINING: 'Server is draining and takes no new calls',
  HTTP_BUSY: 'All lines are busy: the server is at its call limit or saturated',
  HTTP_CALL_EXISTS: 'A voice webhook came for a call that already began (a replayed webhook)',
  HTTP_TOKEN_INVALID: 'Softphone page token is missing, invalid or expired; reload the page',
  HTTP_CALLS_TOO_FAST: 'Calls are being placed faster than their audio streams start; wait and try again',
  HTTP_CROSS_SITE: 'A browser on another site sent this request; it is refused',
  HTTP_TOO_MANY_CONNECTIONS: 'Too many connections from this address; close some and try again',
  HTTP_RATE_LIMITED: 'Too many unauthenticated requests from this address; slow down and try again',
  HTTP_SERVER_FULL: 'The server is at its connection limit',
  // Flows
  FLOW_INVALID: 'Flow file is invalid',
  FLOW_NOT_FOUND: 'No flow with that name is loaded',
  // Calls
  CALL_ACTOR_FAILED: 'The call actor failed',
  CALL_GAVE_UP: 'The call supervisor gave up after too many restarts',
  HTTP_ACTION_FAILED: "A flow state's web request failed",
  HTTP_EGRESS_REFUSED:
    "A flow state's web request was not sent: its host is a loopback, link-local or private address that is not allowed",
  HTTP_VALUE_REFUSED:
    "A flow state's web request was not sent: a value in it would have changed the request's path or headers",
  // Live call control over Twilio's REST API (redirect, transfer, hang up)
  CALL_CONTROL_INVALID: 'Call control request is invalid',
  CALL_TRANSFER_NOT_TAKEN: 'The person called did not take the transfer',
  TWILIO_REST_FAILED: 'Twilio REST request failed',
  // Placing calls (the calls API, `switchboard dial`, campaigns)
  DIAL_INVALID: 'Dial request is invalid',
  DIAL_KEY_REUSED: 'The idempotency key was used for another dial request',
  API_DISABLED: 'The calls API is off: set API_KEY to turn it on',
  // What a webhook answered, as the simulated caller reads it
  TWIML_INVALID: 'Webhook answer is not TwiML the simulated caller can follow',
  // Audio and speech
  AUDIO_BAD_WAV: 'Not a WAV file this reader supports',
  AUDIO_QUEUE_FULL: 'Outbound audio queue is full',
  TTS_FAILED: 'Speech synthesis failed',
  STT_UNAVAILABLE: 'Speech recognition engine is not installed or cannot start',
  STT_FAILED: 'Speech recognition failed',
  VAD_CONFIG_INVALID: 'Voice activity detector options are invalid',
  VAD_INPUT_INVALID: 'Voice activity detector input is invalid',
  VAD_UNAVAILABLE: 'Silero VAD model or runtime could not be loaded',
  VAD_INFERENCE_FAILED: 'Silero VAD inference failed',
  // Language understanding
  NLU_CONFIG_INVALID: 'Intent model configuration is invalid',
  NLU_INPUT_INVALID: 'Intent model input has the wrong type or size',
  NLU_INFERENCE_FAILED: 'Intent model inference failed',
  NLU_BUSY: 'Intent model has too many requests waiting',
  NLU_TRAINING_INVALID: 'Intent model training data or options are invalid',
  NLU_TRAINING_FAILED: 'Intent model training failed',
  NLU_MODEL_INVALID: 'Intent model is malformed, does not fit the input, or could not be loaded',
  // Call journals and their stores
  JOURNAL_CORRUPT: 'Journal record is damaged',
  JOURNAL_VERSION_UNSUPPORTED: 'Journal record was written by a newer version',
  JOURNAL_GAP: 'Journal has a gap in its sequence numbers',
  JOURNAL_FENCED: "Another instance has taken this call's journal",
  JOURNAL_CONFLICT: 'Journal record with this sequence number already exists',
  JOURNAL_NOT_FOUND: 'No journal for this call',
  JOURNAL_KEY_MISSING: 'Journal records are encrypted under a key this server does not have',
  JOURNAL_FULL: "The call's journal holds as many records as a call may have",
  STORE_UNAVAILABLE: 'Journal store cannot be reached or opened',
  STORE_VERSION_UNSUPPORTED: 'Journal store schema was made by a newer version',
  // Resuming and replaying calls
  RESUME_REFUSED: 'The call cannot be resumed',
  REPLAY_DIVERGED: 'Replay differs from the recorded call',
  // Campaigns (`switchboard campaign run`: a CSV file of numbers to call)
  CAMPAIGN_INVALID: 'Campaign file or options are invalid',
  // Configuration
  CONFIG_INVALID: 'Configuration is invalid',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

type FamilyOf<C> = C extends `${infer F}_${string}` ? F : never;

/**
 * The part of a code before its first underscore: `JOURNAL_GAP` is a JOURNAL error. Derived from the registry,
 * so a family exists exactly when some code has it. (HTTP_ACTION_FAILED, a flow's web request, is HTTP too.)
 */
export type ErrorFamily = FamilyOf<ErrorCode>;

export function errorFamily(code: ErrorCode): ErrorFamily {
  return code.slice(0, code.indexOf('_')) as ErrorFamily;
}

export interface SwitchboardErrorOptions extends ErrorOptions {
  /** The same request may succeed if made again (a timeout, an unreachable service); false unless said. */
  retryable?: boolean;
}

/** Base of all typed errors: a stable `code`, a plain message, and redactable `data`. */
export class SwitchboardError extends Error {
  readonly code: ErrorCode;
  readonly data: Readonly<Record<string, unknown>>;
  readonly retryable: boolean;

  constructor(
    code: ErrorCode,
    detail?: string,
    data: Record<string, unknown> = {},
    options?: SwitchboardErrorOptions,
  ) {
    super(detail ? `${ErrorCodes[code]}: ${detail}` : ErrorCodes[code], options);
    this.name = 'SwitchboardError';
    this.code = code;
    this.data = data;
    this.retryable = options?.retryable ?? false;
  }

  get family(): ErrorFamily {
    return errorFamily(this.code);
  }
}

export function isSwitchboardError(err: unknown, code?: ErrorCode): err is SwitchboardError {
  return err instanceof SwitchboardError && (code === undefined || err.code === code);
}

/** A typed error of one of `families`: `isErrorFamily(err, 'JOURNAL', 'STORE')`. */
export function isErrorFamily(err: unknown, ...families: ErrorFamily[]): err is SwitchboardError {
  return err instanceof SwitchboardError && families.includes(err.family);
}

/** Whether trying again may succeed: only typed errors that say so; an unknown error is not retried. */
export function isRetryable(err: unknown): boolean {
  return err instanceof SwitchboardError && err.retryable;
}
