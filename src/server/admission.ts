/**
 * Admission control for one process: whether a new call may come in. A call counts from the moment it is
 * admitted (the voice webhook, the softphone placing it, a resume) until its media session ends; an admitted
 * call whose stream never starts stops counting after PENDING_MS. New calls are refused at MAX_CALLS, or while
 * the saturation monitor says the process is saturated, so the calls already in progress keep their quality.
 *
 * Resumes come first: a call taken up again from its journal (`/twilio/connect-ended`, then a stream carrying a
 * resume ticket) is never refused, since refusing it would cut off a caller in mid-conversation. It is counted,
 * so new calls wait until the process is under its limit again.
 *
 * A refused call is answered politely (a short spoken "all lines are busy", or `<Reject reason="busy"/>`),
 * counted by reason, logged (the caller's number only under `pii`) and journaled as one `end` record, so the
 * calls page shows it and nothing tries to resume it.
 */
import type { CallJournals } from '../call/journals.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { AdmissionConfig } from '../config/env.ts';
import { ErrorCodes, SwitchboardError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { ServerMetrics } from '../observability/metrics.ts';
import {
  EventLoopDelay,
  SaturationMonitor,
  type SaturationReason,
  type SaturationSample,
  SLOW_TURN_MS,
} from '../observability/saturation.ts';
import { rejectBusy, sayThenHangup } from '../telephony/twiml.ts';

/** Why a new call was refused: the `reason` label of `switchboard_calls_refused_total`. */
export type RefusalReason = 'max_calls' | SaturationReason;

/** What `GET /readyz` answers: busy while new calls would be refused, so a proxy sends them elsewhere. */
export type Readiness =
  | { status: 'ready'; calls: number; limit: number | null }
  | { status: 'busy'; reason: RefusalReason; calls: number; limit: number | null }
  | { status: 'draining' }
  /** The journal store does not answer (src/server/store-watch.ts): no call can be taken or resumed here. */
  | { status: 'unavailable'; reason: 'store_unreachable' };

/** Said to a caller turned away (BUSY_ANSWER=say). */
export const BUSY_MESSAGE = 'Sorry, all our lines are busy. Please call again later. Goodbye.';

/**
 * How long an admitted call counts before its stream starts. Twilio opens the stream within a second or two of
 * the webhook's answer; a call that never streams (the caller hung up while it rang) must not hold a place.
 */
export const PENDING_MS = 10_000;

/** Whether the process is saturated: the saturation monitor, or a test's stand-in. */
export interface SaturationState {
  readonly reason: SaturationReason | null;
}

export interface AdmissionOptions {
  /** Null: admission control off and nothing measured (an app embedded without a configuration). */
  config: AdmissionConfig | null;
  /** The call ids of the live media sessions (null for a stream whose `start` has not arrived). */
  live: () => Iterable<string | null>;
  journals: CallJournals;
  metrics: ServerMetrics;
  logger: Logger;
  clock?: Clock;
  /** Saturation as measured elsewhere; absent: a SaturationMonitor on this process, started here. */
  saturation?: SaturationState;
  /** VAD chunks plus recognizer frames dropped since start; absent: the metrics' gauges of them. */
  dropped?: () => number;
}

/** A refused call's answer: the TwiML, and why in words for the refusal header. */
export interface BusyAnswer {
  twiml: string;
  why: string;
}

export class Admission {
  readonly #opts: AdmissionOptions;
  readonly #clock: Clock;
  readonly #limit: number | null;
  readonly #saturation: SaturationState | null;
  readonly #stop: (() => void) | null;
  /** Admitted calls whose stream has not started, with when they stop counting (monotonic ms). */
  readonly #pending = new Map<string, number>();

  constructor(opts: AdmissionOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#limit = opts.config?.enabled ? opts.config.maxCalls : null;
    if (opts.saturation || opts.config === null) {
      this.#saturation = opts.saturation ?? null;
      this.#stop = null;
    } else {
      const monitor = this.#monitor(opts.config);
      this.#saturation = monitor.saturation;
      this.#stop = monitor.stop;
    }
  }

  /** Stop measuring (the app is closing). */
  stop(): void {
    this.#stop?.();
  }

  /** Calls counted against the limit: live media sessions plus admitted calls whose stream has not started. */
  get calls(): number {
    let live = 0;
    for (const callId of this.#opts.live()) {
      live += 1;
      if (callId !== null) this.#pending.delete(callId);
    }
    this.#expire();
    return live + this.#pending.size;
  }

  get limit(): number | null {
    return this.#limit;
  }

  /** Why a new call would be refused now; null when it would be admitted. */
  refusal(): RefusalReason | null {
    if (!this.#opts.config?.enabled) return null;
    if (this.#limit !== null && this.calls >= this.#limit) return 'max_calls';
    return this.#saturation?.reason ?? null;
  }

  readiness(): Readiness {
    const reason = this.refusal();
    const calls = this.calls;
    return reason === null
      ? { status: 'ready', calls, limit: this.#limit }
      : { status: 'busy', reason, calls, limit: this.#limit };
  }

  /**
   * A new call at the voice webhook. Admitted: null, and the call counts from now. Refused: the answer to give
   * Twilio, once the refusal is counted, logged and journaled.
   */
  async refuseNew(callId: string, pii: { from?: string; to?: string }): Promise<BusyAnswer | null> {
    const reason = this.refusal();
    if (reason === null) {
      this.#count(callId);
      return null;
    }
    const log = this.#refused(callId, reason, pii);
    try {
      await this.#opts.journals.refuse(callId, `refused: all lines busy (${reason})`, this.#clock.now());
    } catch (err) {
      // The caller is still told; only the calls page misses this one.
      log.warn('refused call could not be journaled', { err });
    }
    const twiml = this.#opts.config?.busyAnswer === 'reject' ? rejectBusy() : sayThenHangup(BUSY_MESSAGE);
    return { twiml, why: `${ErrorCodes.HTTP_BUSY} (${reason})` };
  }

  /** A call the softphone places: counted from now, or HTTP_BUSY (retryable: later, or on another instance). */
  admitPlaced(callId: string): void {
    const reason = this.refusal();
    if (reason === null) return this.#count(callId);
    this.#refused(callId, reason, {});
    throw new SwitchboardError('HTTP_BUSY', reason, { reason }, { retryable: true });
  }

  /** The stream of `callId` started in another worker: it counts there now, no longer as pending here. */
  startedElsewhere(callId: string): void {
    this.#pending.delete(callId);
  }

  /** A call resumed from its journal: always admitted (see the module's comment), counted from now. */
  resumed(callId: string): void {
    this.#count(callId);
  }

  #count(callId: string): void {
    this.#expire();
    // Deleted first so the map stays in order of expiry.
    this.#pending.delete(callId);
    this.#pending.set(callId, this.#clock.monotonic() + PENDING_MS);
  }

  /** Forget admitted calls whose stream never started: the oldest first, as the map keeps them. */
  #expire(): void {
    const now = this.#clock.monotonic();
    for (const [callId, until] of this.#pending) {
      if (until > now) break;
      this.#pending.delete(callId);
    }
  }

  #refused(callId: string, reason: RefusalReason, pii: { from?: string; to?: string }): Logger {
    this.#opts.metrics.callsRefused.inc({ reason });
    const log = this.#opts.logger.child({ callId });
    log.info('call refused: all lines busy', { reason, calls: this.calls, limit: this.#limit, pii });
    return log;
  }

  /** Measure this process's saturation every second, into the metrics; logs when it starts and ends. */
  #monitor(config: AdmissionConfig): { saturation: SaturationState; stop: () => void } {
    const { metrics, logger } = this.#opts;
    const loop = new EventLoopDelay();
    const dropped =
      this.#opts.dropped ?? (() => metrics.vadChunksDropped.get() + metrics.sttFramesDropped.get());
    let was = false;
    const monitor: SaturationMonitor = new SaturationMonitor({
      signals: {
        loopDelayMs: () => loop.p99Ms(),
        framesLate: () => metrics.outboundFramesLate.get(),
        dropped,
        turns: () => ({
          total: metrics.turnLatencyMs.count,
          slow: metrics.turnLatencyMs.countOver(SLOW_TURN_MS),
        }),
      },
      thresholds: config.saturation,
      clock: this.#clock,
      onSample: (sample: SaturationSample, saturated: boolean) => {
        metrics.eventLoopDelayMs.set(Math.round(sample.loopDelayMs * 10) / 10);
        metrics.admissionSaturated.set(saturated ? 1 : 0);
        if (saturated !== was) {
          const fields = { reason: monitor.reason, ...sample };
          if (!saturated) logger.info('process no longer saturated', fields);
          else if (config.enabled) logger.warn('process saturated: new calls are refused', fields);
          else logger.warn('process saturated; ADMISSION=off, so new calls are still admitted', fields);
        }
        was = saturated;
      },
    });
    monitor.start();
    return {
      saturation: monitor,
      stop: () => {
        monitor.stop();
        loop.stop();
      },
    };
  }
}
