/** What a media session is given: the server's shared parts, and the close codes it ends streams with. */
import type { PacerClock } from '../../audio/pacer.ts';
import type { Clock } from '../../clock.ts';
import type { CompiledFlow } from '../../flow/index.ts';
import type { SharedIntentModel } from '../../nlu/shared-model.ts';
import type { LogGate, Logger } from '../../observability/logger.ts';
import type { ServerMetrics } from '../../observability/metrics.ts';
import type { SttEngine } from '../../speech/stt/engine.ts';
import type { WarmTransfers } from '../../transfer/warm-transfers.ts';
import type { CallControl } from '../../telephony/call-control.ts';
import type { FaultHook } from '../call-journal.ts';
import type { CallViews } from '../call-view.ts';
import type { PromptSource } from '../effects.ts';
import type { CallJournals } from '../journals.ts';
import type { VadOpener } from '../../speech/vad/opener.ts';
import type { FallbackSpeech } from '../speech-failover.ts';
import type { QuietLimits } from './quiet-watch.ts';
import type { SessionSubscriber } from './session-events.ts';

/** What calls hear the caller with. */
export interface Hearing {
  stt: SttEngine;
  openVad: VadOpener;
}

export interface SessionDeps {
  flows: { get(name: string): CompiledFlow | undefined };
  /** Speech recognition and voice activity; absent or null: calls take keys only. */
  hearing?: Hearing | null;
  /** Each flow's intent model, by flow id; a flow without one understands its exact examples only. */
  models?: { get(flow: string): SharedIntentModel | undefined };
  /** Where `{{env.NAME}}` values come from when a call starts (process.env unless given). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Hosts, addresses and CIDR ranges the flow's web requests may reach although not public (HTTP_ALLOW_HOSTS). */
  httpAllowHosts?: readonly string[];
  /** Twilio REST control for transfers; null when no account credentials are configured. */
  callControl?: CallControl | null;
  /** Where calls' recording status callbacks go; absent: calls cannot be recorded. */
  recordingCallbackUrl?: string;
  /** Warm transfers (held in a conference while a person is briefed); absent or null: only cold ones. */
  warmTransfers?: WarmTransfers | null;
  /** Where calls are journaled, and how streams attach to them. */
  journals: CallJournals;
  /**
   * The ticket token the stream's signed URL carries (`/twilio/media/<token>`): the start message's ticket must
   * be that one. Absent for streams authenticated otherwise (the softphone's).
   */
  urlTicket?: string;
  /** Deterministic fault injection for tests. */
  faults?: FaultHook;
  defaultFlow: string;
  prompts: PromptSource;
  /** Offline engines a call switches to when its cloud speech keeps failing; none when absent. */
  fallback?: FallbackSpeech | null;
  pacerClock: PacerClock;
  metrics: ServerMetrics;
  logger: Logger;
  /** Live views of calls (the softphone's); a call is published to only when it was opened there. */
  views?: CallViews;
  /** The session's timers and monotonic time (the system clock unless given; tests pass a manual one). */
  clock?: Clock;
  /** Wall-clock ms for events (the clock's `now` unless given). */
  now?: () => number;
  /**
   * Lets through the lines of a stream rejected before it attached to a call (unauthenticated, so possibly one
   * of a flood), a few per source, counting the rest; absent: every line is logged.
   */
  unattachedLogGate?: LogGate;
  /** More subscribers of each call's events (tests, tools). */
  subscribers?: readonly SessionSubscriber[];
  /** Spans of each call (OpenTelemetry); absent or null: calls are not traced. */
  tracing?: CallTracing | null;
  /**
   * How long a stream may stay quiet (ms, by the session's clock): without `start` after `noStartMs` it is bad
   * input; live, without any message for `idleMs` (Twilio sends audio every 20 ms) it is a dropped stream, its
   * call left to resume. Absent: no limit (tests that drive time by hand).
   */
  quietLimits?: QuietLimits;
}

/** Websocket close codes we use, with the reason each is sent. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  policy: 1008,
  internal: 1011,
} as const;

/** The spans of each call (src/tracing/): a media session subscribes the call's subscriber when its stream starts. */
export interface CallTracing {
  subscriber(callId: string, flow: string): SessionSubscriber;
}
