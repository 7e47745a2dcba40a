/**
 * One timer for every call's outbound audio. Calls are spread over PHASES slots of the 20 ms frame, so each call
 * still sends a frame every 20 ms but the server does not receive every call's frame in the same instant.
 */
import { FRAME_MS } from '../audio/index.ts';

/** Something that sends its due frames when ticked; `now` is performance.now(). */
export interface FrameClockMember {
  tick(now: number): void;
}

const PHASES = 4;

export class FrameClock {
  readonly #slots: Set<FrameClockMember>[] = Array.from({ length: PHASES }, () => new Set());
  #next = 0;
  #phase = 0;
  #timer: NodeJS.Timeout | null = null;
  /** Called when a member's tick throws; the member is removed so one bad call cannot stop the others. */
  readonly #onError: (member: FrameClockMember, err: unknown) => void;

  constructor(onError: (member: FrameClockMember, err: unknown) => void) {
    this.#onError = onError;
  }

  start(): void {
    this.#timer ??= setInterval(() => this.#tick(), FRAME_MS / PHASES);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Ticks `member` every frame from now on, in the least recently filled slot. */
  add(member: FrameClockMember): void {
    this.#slots[this.#next]!.add(member);
    this.#next = (this.#next + 1) % PHASES;
  }

  remove(member: FrameClockMember): void {
    for (const slot of this.#slots) slot.delete(member);
  }

  get size(): number {
    return this.#slots.reduce((n, s) => n + s.size, 0);
  }

  #tick(): void {
    const slot = this.#slots[this.#phase]!;
    this.#phase = (this.#phase + 1) % PHASES;
    const now = performance.now();
    for (const member of slot) {
      try {
        member.tick(now);
      } catch (err) {
        slot.delete(member);
        this.#onError(member, err);
      }
    }
  }
}
