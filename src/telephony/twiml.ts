/**
 * TwiML responses for the voice webhooks, and the URLs they point Twilio at. Everything interpolated into XML goes
 * through escapeXml (common/xml.ts); stream URLs are checked against what Twilio accepts (ws(s), no query string).
 */
import { isE164 } from '../common/e164.ts';
import { escapeXml } from '../common/xml.ts';
import { SwitchboardError } from '../errors.ts';

const XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>';

/** Twilio rejects a `<Parameter>` whose name and value together reach this many characters. */
export const MAX_PARAMETER_CHARS = 500;

function invalid(detail: string, data: Record<string, unknown> = {}): SwitchboardError {
  return new SwitchboardError('CONFIG_INVALID', detail, data);
}

const WS_SCHEME = /^wss?:\/\//i;
const PUBLIC_URL_PARTS = /^(https?):\/\/([^/?#]+)([^?#]*)$/i;

function checkStreamUrl(url: string): void {
  if (!WS_SCHEME.test(url)) throw invalid('stream URL must be ws:// or wss://', { url });
  // Twilio drops or rejects query strings on stream URLs: data goes in <Parameter>s instead.
  if (url.includes('?') || url.includes('#'))
    throw invalid('stream URL must not have a query string', { url });
  if (!URL.canParse(url)) throw invalid('stream URL is not a valid URL', { url });
}

/**
 * `<Connect action><Stream url>` with `<Parameter>`s: the call's audio goes to our websocket, and Twilio requests
 * `actionUrl` when the stream ends. Throws CONFIG_INVALID for a stream URL Twilio would refuse or a parameter that
 * is too long.
 */
export function connectStream(opts: {
  actionUrl: string;
  streamUrl: string;
  parameters: Record<string, string>;
  statusCallbackUrl?: string;
}): string {
  checkStreamUrl(opts.streamUrl);
  if (opts.actionUrl.length === 0) throw invalid('action URL is empty');

  let params = '';
  for (const [name, value] of Object.entries(opts.parameters)) {
    if (name.length === 0) throw invalid('parameter name is empty');
    // The value may hold caller data: report only its length.
    if (name.length + value.length >= MAX_PARAMETER_CHARS) {
      throw invalid('parameter name and value must be under 500 characters', {
        name,
        length: name.length + value.length,
      });
    }
    params += `<Parameter name="${escapeXml(name)}" value="${escapeXml(value)}"/>`;
  }

  const statusCallback =
    opts.statusCallbackUrl === undefined ? '' : ` statusCallback="${escapeXml(opts.statusCallbackUrl)}"`;
  return (
    `${XML_HEADER}<Response><Connect action="${escapeXml(opts.actionUrl)}">` +
    `<Stream url="${escapeXml(opts.streamUrl)}"${statusCallback}>${params}</Stream></Connect></Response>`
  );
}

/** Twilio refuses inline TwiML (the `Twiml` parameter of a call update) longer than this. */
export const MAX_INLINE_TWIML_CHARS = 4000;

const ABSOLUTE_HTTP_URL = /^https?:\/\/[^/?#\s]+/i;

export interface DialOptions {
  /** The number the callee sees (E.164): a Twilio number or a verified caller ID. Default: the caller's number. */
  callerId?: string;
  /** Seconds to ring before giving up, 5 to 600 (Twilio's range). Default: Twilio's 30. */
  timeoutS?: number;
  /** Absolute http(s) URL Twilio requests when the dialled leg ends. Without it the call ends with the dial. */
  action?: string;
}

/**
 * `<Dial><Number>` connecting the call to `to`. Throws CALL_CONTROL_INVALID for a number that is not E.164 or an
 * action that is not an absolute http(s) URL: TwiML sent through the REST API has no request URL to resolve a
 * relative one against. Numbers are personal data, so errors say which field is wrong but never repeat it.
 */
export function dialTwiml(to: string, options: DialOptions = {}): string {
  if (!isE164(to)) {
    throw new SwitchboardError('CALL_CONTROL_INVALID', 'dial number must be E.164, such as +14155552671', {
      field: 'to',
    });
  }
  let attrs = '';
  if (options.callerId !== undefined) {
    if (!isE164(options.callerId)) {
      throw new SwitchboardError('CALL_CONTROL_INVALID', 'caller ID must be E.164, such as +14155552671', {
        field: 'callerId',
      });
    }
    attrs += ` callerId="${escapeXml(options.callerId)}"`;
  }
  if (options.timeoutS !== undefined) {
    const t = options.timeoutS;
    if (!Number.isInteger(t) || t < 5 || t > 600) {
      throw new SwitchboardError(
        'CALL_CONTROL_INVALID',
        'dial timeout must be a whole number of seconds, 5 to 600',
        {
          field: 'timeoutS',
          timeoutS: t,
        },
      );
    }
    attrs += ` timeout="${t}"`;
  }
  if (options.action !== undefined) {
    if (!ABSOLUTE_HTTP_URL.test(options.action) || !URL.canParse(options.action)) {
      throw new SwitchboardError('CALL_CONTROL_INVALID', 'dial action must be an absolute http(s) URL', {
        field: 'action',
        action: options.action,
      });
    }
    attrs += ` action="${escapeXml(options.action)}"`;
  }
  return `${XML_HEADER}<Response><Dial${attrs}><Number>${escapeXml(to)}</Number></Dial></Response>`;
}

/** TwiML that ends the call. */
export function hangup(): string {
  return `${XML_HEADER}<Response><Hangup/></Response>`;
}

/**
 * Header on a webhook answer that turns a call away (an unknown flow, say): why, in words, for tools such as
 * `switchboard call`. Twilio ignores it and plays the TwiML.
 */
export const REFUSAL_HEADER = 'x-switchboard-refusal';

/** TwiML that says `text` with Twilio's own voice and hangs up: for refusing calls politely. */
export function sayThenHangup(text: string): string {
  return `${XML_HEADER}<Response><Say>${escapeXml(text)}</Say><Hangup/></Response>`;
}

/** TwiML that declines the call before it is answered, with a busy tone (the caller is not billed). */
export function rejectBusy(): string {
  return `${XML_HEADER}<Response><Reject reason="busy"/></Response>`;
}

/**
 * Splits PUBLIC_URL into scheme, authority and path without normalising it (`new URL` would lower-case the host
 * and drop default ports), because Twilio signs the URL exactly as it was configured.
 */
function splitPublicUrl(publicUrl: string): { scheme: 'http' | 'https'; authority: string; path: string } {
  const m = PUBLIC_URL_PARTS.exec(publicUrl);
  if (!m || !URL.canParse(publicUrl)) {
    throw invalid('public URL must be http(s)://host[:port][/path] without query or fragment', { publicUrl });
  }
  return {
    scheme: m[1]!.toLowerCase() as 'http' | 'https',
    authority: m[2]!,
    path: m[3]!,
  };
}

function joinPath(basePath: string, path: string): string {
  let end = basePath.length;
  while (end > 0 && basePath.charCodeAt(end - 1) === 47) end--;
  let start = 0;
  while (start < path.length && path.charCodeAt(start) === 47) start++;
  return basePath.slice(0, end) + '/' + path.slice(start);
}

/** The websocket URL for `path` under PUBLIC_URL: https becomes wss and http ws; host, port and base path kept. */
export function streamUrlFor(publicUrl: string, path: string): string {
  const { scheme, authority, path: base } = splitPublicUrl(publicUrl);
  const url = `${scheme === 'https' ? 'wss' : 'ws'}://${authority}${joinPath(base, path)}`;
  checkStreamUrl(url);
  return url;
}

/** The http(s) URL for `path` (which may carry a query string) under PUBLIC_URL, e.g. for `<Connect action>`. */
export function httpUrlFor(publicUrl: string, path: string): string {
  const { scheme, authority, path: base } = splitPublicUrl(publicUrl);
  return `${scheme}://${authority}${joinPath(base, path)}`;
}
