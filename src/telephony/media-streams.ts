/**
 * The bidirectional Twilio Media Streams protocol: parsing what Twilio sends, encoding what we send back, and the
 * mirror image of both for the simulated caller. Inbound media arrives every 20 ms per call, so parsing is one
 * JSON.parse plus hand-written field checks, and outbound encoding is string concatenation on precomputed parts.
 *
 * The parts live in media-streams/: messages.ts (the message types), fields.ts and payload.ts (validation),
 * inbound.ts (parsing what Twilio sends), outbound.ts (what we send), inbound-encoder.ts (the simulated caller).
 * This file is where callers import them from.
 */
export { InboundEncoder } from './media-streams/inbound-encoder.ts';
export { parseInbound } from './media-streams/inbound.ts';
export { MAX_MESSAGE_BYTES } from './media-streams/messages.ts';
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
} from './media-streams/messages.ts';
export { OutboundEncoder, parseOutbound } from './media-streams/outbound.ts';
export { decodePayloadInto, isBase64 } from './media-streams/payload.ts';
