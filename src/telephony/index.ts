/**
 * Twilio at the edge: the Media Streams protocol, TwiML, request signatures and live call control (REST). No
 * dialogue logic here.
 */
export * from './media-streams.ts';
export {
  MAX_INLINE_TWIML_CHARS,
  MAX_PARAMETER_CHARS,
  connectStream,
  dialTwiml,
  hangup,
  httpUrlFor,
  sayThenHangup,
  streamUrlFor,
} from './twiml.ts';
export type { DialOptions } from './twiml.ts';
export { CallControl } from './call-control.ts';
export type { CallControlOptions } from './call-control.ts';
export { isValidStreamSignature, isValidTwilioSignature, signTwilioRequest } from './signature.ts';
