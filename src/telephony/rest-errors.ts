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
      `${operation} answered HTTP ${err.status}${twilioCode === null ? '' : ` (Twilio error ${twilioCode})`}`,
      {
        ...data,
        status: err.status,
        twilioCode,
        ...(typeof err.moreInfo === 'string' ? { moreInfo: err.moreInfo } : {}),
      },
      { cause: err },
    );
  }
  // Network failures (ECONNRESET, timeouts) and unparseable answers: only the error's name and code are safe.
  const code = (err as { code?: unknown } | null)?.code;
  const reason = typeof code === 'string' ? code : err instanceof Error ? err.name : 'unknown error';
  return new SwitchboardError('TWILIO_REST_FAILED', `${operation} got no usable answer (${reason})`, {
    ...data,
    status: null,
    twilioCode: null,
    reason,
  });
}
