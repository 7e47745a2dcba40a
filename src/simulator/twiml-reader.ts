/**
 * Reads the TwiML our server (or any Twilio app) answers with, as far as a simulated caller needs: where to
 * stream, with which parameters, where to go when the stream ends, and whether to hang up.
 */
import { unescapeXml } from '../common/xml.ts';
import { SwitchboardError } from '../errors.ts';

export interface TwimlInstructions {
  say: string[];
  hangup: boolean;
  connect: { action: string | null; streamUrl: string; parameters: Record<string, string> } | null;
}

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([A-Za-z]+)="([^"]*)"/g)) if (m[1]) out[m[1]] = unescapeXml(m[2] ?? '');
  return out;
}

/** Extract the verbs a simulated caller acts on; TWIML_INVALID when there is no `<Response>` or stream URL. */
export function readTwiml(xml: string): TwimlInstructions {
  if (!/<Response[\s>]/.test(xml)) throw new SwitchboardError('TWIML_INVALID', 'no <Response>');
  const say = [...xml.matchAll(/<Say[^>]*>([\s\S]*?)<\/Say>/g)].map((m) => unescapeXml(m[1] ?? ''));
  const hangup = /<Hangup\s*\/>/.test(xml);
  const connectTag = /<Connect(\s[^>]*)?>/.exec(xml);
  const streamTag = /<Stream(\s[^>]*)?\/?>/.exec(xml);
  if (!connectTag || !streamTag) return { say, hangup, connect: null };
  const parameters: Record<string, string> = {};
  for (const m of xml.matchAll(/<Parameter\s[^>]*\/>/g)) {
    const a = attributes(m[0]);
    if (a.name !== undefined) parameters[a.name] = a.value ?? '';
  }
  const streamUrl = attributes(streamTag[0]).url;
  if (!streamUrl) throw new SwitchboardError('TWIML_INVALID', '<Stream> has no url');
  return {
    say,
    hangup,
    connect: { action: attributes(connectTag[0]).action ?? null, streamUrl, parameters },
  };
}
