/** Test double of a call's websocket: records what the session sends, parsed, and how it closed. */
import type { StreamSocket } from '../../src/call/session.ts';
import { parseOutbound, type OutboundMessage } from '../../src/telephony/media-streams.ts';

export class RecordingSocket implements StreamSocket {
  readonly sent: OutboundMessage[] = [];
  closed: { code: number; reason: string } | null = null;
  bufferedAmount = 0;
  send(data: string): void {
    this.sent.push(parseOutbound(data));
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }
  closeCode(): number | undefined {
    return this.closed?.code;
  }
  /** Names of the marks sent, in order. */
  marks(): string[] {
    return this.sent.flatMap((m) => (m.event === 'mark' ? [m.mark.name] : []));
  }
  /** Messages sent of one event type ('media', 'mark', 'clear'). */
  count(event: string): number {
    return this.sent.filter((m) => m.event === event).length;
  }
}
