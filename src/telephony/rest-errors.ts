/**
 * A failed REST request of the twilio library as a typed error, TWILIO_REST_FAILED: the HTTP status and Twilio's
 * error code in `data` and the message, nothing that came from the caller. Twilio's own message can quote the
 * numbers involved, so it stays out of both; twilioMessage() reads it for a log line's `pii` field.
 */
import { SwitchboardError } from '../errors.ts';

/** Errors the twilio library raises for an answer outside 2xx (RestException and the RFC 9457 form). */
interface TwilioApiError {
  status: number;
  code?: unknown;
  moreInfo?: unknown;
  message?: unknown;
}

function isTwilioApiError(err: unknown): err is TwilioApiError {
  return err instanceof Error && typeof (err as { status?: unknown }).status === 'number';
}

/** Twilio's own message for a failed request (`err` as thrown, or its restError()), if Twilio answered. */
export function twilioMessage(err: unknown): string | undefined {
  const original = err instanceof SwitchboardError ? err.cause : err;
  return isTwilioApiError(original) && typeof original.message === 'string' ? original.message : undefined;
}

/**
 * What the Twilio errors a caller is most likely to meet mean, in words that say what to do: the rest are looked
 * up at `moreInfo`.
 */
export const TWILIO_ERROR_MEANINGS: Readonly<Record<number, string>> = {
  20404: 'no such resource in this account',
  21205: 'the voice URL is not a valid URL',
  21210: 'the From number is not a number of this account nor a verified caller id',
  21211: 'the To number is not a valid phone number',
  21212: 'the From number is not a valid phone number',
  21214: 'the To number cannot be reached',
  21215: "the account has no geographic permission to call the To number's country",
  21216: 'the To number is blocked for this account',
  21217: 'the To number is not a valid phone number for calling',
  21219: 'the To number is not verified, as a trial account needs',
  21220: 'the call is not in progress',
};

function meaning(code: number): string {
  const text = TWILIO_ERROR_MEANINGS[code];
  return text === undefined ? '' : `: ${text}`;
}

/**
 * The typed error for `operation` (e.g. "redirect", "list numbers") failing with `err`: `data` plus `status`,
 * `twilioCode` and, when Twilio gave it, `moreInfo`. The original error is kept as `cause` only when it is
 * Twilio's answer: a transport error (axios) carries the request, auth header and form included.
 */
export function restError(
  operation: string,
  err: unknown,
  data: Record<string, unknown> = {},
): SwitchboardError {
  if (isTwilioApiError(err)) {
    const twilioCode = typeof err.code === 'number' && err.code !== 0 ? err.code : null;
    return new SwitchboardError(
      'TWILIO_REST_FAILED',
      `${operation} answered HTTP ${err.status}${twilioCode === null ? '' : ` (Twilio error ${twilioCode}${meaning(twilioCode)})`}`,
      {
        ...data,
        status: err.status,
        twilioCode,
        ...(typeof err.moreInfo === 'string' ? { moreInfo: err.moreInfo } : {}),
      },
      // Twilio's own trouble or its rate limit may pass; a refusal of the request will not.
      { cause: err, retryable: err.status >= 500 || err.status === 429 },
    );
  }
  // Network failures (ECONNRESET, timeouts) and unparseable answers: only the error's name and code are safe.
  const code = (err as { code?: unknown } | null)?.code;
  const reason = typeof code === 'string' ? code : err instanceof Error ? err.name : 'unknown error';
  return new SwitchboardError(
    'TWILIO_REST_FAILED',
    `${operation} got no usable answer (${reason})`,
    {
      ...data,
      status: null,
      twilioCode: null,
      reason,
    },
    { retryable: true },
  );
}
