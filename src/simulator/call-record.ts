/** What a simulated call collects as it goes, for its result: marks echoed, audio heard, timings. */
import { FRAME_BYTES, FRAME_MS, MULAW_SILENCE } from '../audio/index.ts';

export class CallRecord {
  /** Marks echoed, in order. */
  readonly marks: string[] = [];
  /** Agent frames with the time (ms since call start) they start playing. */
  readonly heard: { at: number; frame: Buffer }[] = [];
  firstMediaMs: number | null = null;
  readonly replyMs: number[] = [];
  /** When the last caller input ended, until the agent's next audio. */
  inputEndedAt: number | null = null;
  closeCode: number | null = null;

  /** What the caller heard: the agent's audio placed at the time it played, silence between. */
  assembleHeard(): Uint8Array {
    const last = this.heard.at(-1);
    if (!last) return new Uint8Array(0);
    const first = this.heard[0]!.at;
    const bytesPerMs = FRAME_BYTES / FRAME_MS;
    const out = new Uint8Array(Math.ceil((last.at - first) * bytesPerMs) + FRAME_BYTES).fill(MULAW_SILENCE);
    for (const { at, frame } of this.heard) out.set(frame, Math.round((at - first) * bytesPerMs));
    return out;
  }
}
