/**
 * How a media websocket's events reach its session: each text message as it is read; a binary frame (Twilio sends
 * text only) or a message past the size limit ends the call as bad input; the close, with its code.
 */
import type { WebSocket } from 'ws';
import type { MediaSession } from '../call/session.ts';
import { SwitchboardError } from '../errors.ts';
import { MAX_MESSAGE_BYTES } from '../telephony/media-streams.ts';

export function bindStreamSocket(ws: WebSocket, session: MediaSession): void {
  ws.on('message', (data: Buffer, binary: boolean) =>
    binary
      ? session.reject(new SwitchboardError('MEDIA_BAD_MESSAGE', 'a binary frame'))
      : session.handleMessage(data),
  );
  ws.on('close', (code) => session.handleClose(code));
  ws.on('error', (err: Error & { code?: string }) => {
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      session.reject(new SwitchboardError('MEDIA_TOO_LARGE', `over ${MAX_MESSAGE_BYTES} bytes`));
    } else session.reject(err);
  });
}
