/**
 * TwiML for a warm transfer: the caller waits in a conference room (hold audio until someone else joins), the
 * person called is briefed with a whisper and asked to take the call, and joins the room when they do.
 * Everything interpolated goes through escapeXml; URLs are absolute, as TwiML sent through the REST API has no
 * request URL to resolve a relative one against.
 */
import { escapeXml } from '../common/xml.ts';
import { SwitchboardError } from '../errors.ts';

const XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>';
/** Twilio's conference names: up to 128 characters; ours are plain. */
const ROOM = /^[A-Za-z0-9._-]{1,128}$/;
const ABSOLUTE_HTTP_URL = /^https?:\/\/[^/?#\s]+/i;
/** Seconds the person has, after the whisper, to press a key. */
const ANSWER_SECONDS = 10;

/** The key that takes the call; any other, or none, sends the caller back. */
export const TAKE_KEY = '1';

function checkRoom(room: string): void {
  if (!ROOM.test(room)) {
    throw new SwitchboardError(
      'CALL_CONTROL_INVALID',
      'conference name must be 1 to 128 of A-Z a-z 0-9 . _ -',
    );
  }
}

function checkUrl(url: string, field: string): void {
  if (!ABSOLUTE_HTTP_URL.test(url) || !URL.canParse(url)) {
    throw new SwitchboardError('CALL_CONTROL_INVALID', `${field} must be an absolute http(s) URL`, { field });
  }
}

/**
 * The caller waits in `room`: `hold` (audio or TwiML, fetched with GET) plays until someone else joins, Twilio's
 * own hold music without it. The conference ends when the caller leaves, so nobody is left talking to no one.
 */
export function holdInConference(room: string, hold: string | null): string {
  checkRoom(room);
  let wait = '';
  if (hold !== null) {
    checkUrl(hold, 'hold');
    wait = ` waitUrl="${escapeXml(hold)}" waitMethod="GET"`;
  }
  return (
    `${XML_HEADER}<Response><Dial><Conference startConferenceOnEnter="false" endConferenceOnExit="true"` +
    ` beep="false"${wait}>${room}</Conference></Dial></Response>`
  );
}

/** The person who took the call joins `room`, which starts the conversation; it ends when they hang up. */
export function joinConference(room: string): string {
  checkRoom(room);
  return (
    `${XML_HEADER}<Response><Dial><Conference startConferenceOnEnter="true" endConferenceOnExit="true"` +
    ` beep="false">${room}</Conference></Dial></Response>`
  );
}

/**
 * The whisper, then the question: TAKE_KEY takes the call. The answer (or its absence, after ANSWER_SECONDS)
 * is posted to `action` as `Digits`.
 */
export function whisperTwiml(whisper: string, action: string): string {
  checkUrl(action, 'action');
  return (
    `${XML_HEADER}<Response><Gather input="dtmf" numDigits="1" timeout="${ANSWER_SECONDS}"` +
    ` actionOnEmptyResult="true" action="${escapeXml(action)}" method="POST">` +
    `<Say>${escapeXml(whisper)}</Say><Pause length="1"/>` +
    `<Say>Press ${TAKE_KEY} to take the call, or 2 to send it back.</Say></Gather></Response>`
  );
}
