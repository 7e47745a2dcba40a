/** Twilio at the edge: the Media Streams protocol, TwiML, and request signatures. No dialogue logic here. */
export {
  MAX_MESSAGE_BYTES,
  InboundEncoder,
  OutboundEncoder,
  decodePayloadInto,
  isBase64,
  isDtmfDigit,
  parseInbound,
  parseOutbound,
} from './media-streams.ts';
export type {
  ConnectedMessage,
  DtmfMessage,
  InboundMessage,
  MarkMessage,
  MediaFormat,
  MediaMessage,
  MediaTrack,
  OutboundMessage,
  StartMessage,
  StopMessage,
} from './media-streams.ts';
export {
  MAX_PARAMETER_CHARS,
  connectStream,
  escapeXml,
  hangup,
  httpUrlFor,
  sayThenHangup,
  streamUrlFor,
} from './twiml.ts';
export { isValidStreamSignature, isValidTwilioSignature, signTwilioRequest } from './signature.ts';
