/** The messages of the bidirectional Twilio Media Streams protocol, both ways. */

/** A websocket maxPayload for the media socket: real messages are a few hundred bytes. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

export type MediaTrack = 'inbound' | 'outbound';

/** The only audio format we accept (and the only one bidirectional streams use). */
export interface MediaFormat {
  encoding: 'audio/x-mulaw';
  sampleRate: 8000;
  channels: 1;
}

export interface ConnectedMessage {
  event: 'connected';
  protocol: string;
  version: string;
}

export interface StartMessage {
  event: 'start';
  sequenceNumber: number;
  streamSid: string;
  start: {
    streamSid: string;
    accountSid: string;
    callSid: string;
    tracks: string[];
    customParameters: Record<string, string>;
    mediaFormat: MediaFormat;
  };
}

export interface MediaMessage {
  event: 'media';
  sequenceNumber: number;
  streamSid: string;
  media: { track: MediaTrack; chunk: number; timestamp: number; payload: string };
}

export interface DtmfMessage {
  event: 'dtmf';
  sequenceNumber: number;
  streamSid: string;
  dtmf: { track: string; digit: string };
}

export interface MarkMessage {
  event: 'mark';
  sequenceNumber: number;
  streamSid: string;
  mark: { name: string };
}

export interface StopMessage {
  event: 'stop';
  sequenceNumber: number;
  streamSid: string;
  stop: { accountSid: string; callSid: string };
}

/** Everything Twilio sends on a media stream, discriminated on `event`. */
export type InboundMessage =
  ConnectedMessage | StartMessage | MediaMessage | DtmfMessage | MarkMessage | StopMessage;

/** Everything we send to Twilio on a media stream. */
export type OutboundMessage =
  | { event: 'media'; streamSid: string; media: { payload: string } }
  | { event: 'mark'; streamSid: string; mark: { name: string } }
  | { event: 'clear'; streamSid: string };

/** A parsed JSON object, before its fields are checked. */
export type Json = Record<string, unknown>;
