/**
 * Twilio at the edge: the Media Streams protocol, TwiML, request signatures, and over REST live call control and
 * the account's numbers. No dialogue logic here.
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
export { TwilioNumbers, pointsAt } from './numbers.ts';
export type { NumberTarget, PhoneNumberConfig } from './numbers.ts';
export type { TwilioRestOptions } from './rest-client.ts';
export { isValidStreamSignature, isValidTwilioSignature, signTwilioRequest } from './signature.ts';
