/** What a SwitchboardApp (app.ts) is built from: its flows, journals, speech, Twilio settings and limits. */
import type { CallJournals } from '../call/journals.ts';
import type { FaultHook } from '../call/call-journal.ts';
import type { PromptSource } from '../call/effects.ts';
import type { Hearing } from '../call/session.ts';
import type { FallbackSpeech } from '../call/speech-failover.ts';
import type { AdmissionConfig, EdgeLimitsConfig } from '../config/env.ts';
import type { CompiledFlow } from '../flow/index.ts';
import type { SharedIntentModel } from '../nlu/shared-model.ts';
import type { Logger } from '../observability/logger.ts';
import type { ServerMetrics } from '../observability/metrics.ts';
import type { CallControl } from '../telephony/call-control.ts';
import type { Tracing } from '../tracing/tracing.ts';
import type { CallsApi } from './api/api.ts';
import type { ClusterPeers } from './cluster/peers.ts';

export interface AppOptions {
  flows: ReadonlyMap<string, CompiledFlow>;
  /** Where calls are journaled; streams attach to their calls through it. */
  journals: CallJournals;
  /** Deterministic fault injection for tests. */
  faults?: FaultHook;
  /** Speech recognition and voice activity for calls; absent or null: calls take keys only. */
  hearing?: Hearing | null;
  /** Each flow's intent model by flow id (a FlowLibrary's `models`); absent: exact examples only. */
  models?: ReadonlyMap<string, SharedIntentModel>;
  defaultFlow: string;
  prompts: PromptSource;
  /** Offline engines calls switch to when cloud speech keeps failing (flows' `speechFailover`). */
  fallback?: FallbackSpeech | null;
  logger: Logger;
  /** When set, every Twilio request and the websocket upgrade must be signed with it. */
  twilioAuthToken: string | null;
  /** While the token is rotated (TWILIO_AUTH_TOKEN_SECONDARY): signatures made with it are accepted too. */
  twilioAuthTokenSecondary?: string | null;
  /** METRICS_TOKEN: the bearer token GET /metrics needs (ops-routes.ts). */
  metricsToken?: string | null;
  /** Hosts, addresses and CIDR ranges flows' web requests may reach although not public (HTTP_ALLOW_HOSTS). */
  httpAllowHosts?: readonly string[];
  /** The URL Twilio reaches; when null, derived from the listening address. */
  publicUrl: string | null;
  metrics?: ServerMetrics;
  /** Twilio REST control, for transfers; null or absent when no account credentials are configured. */
  callControl?: CallControl | null;
  /** TWILIO_CALLER_ID: what a warm transfer calls the person from when the call's own number is not a phone number. */
  twilioCallerId?: string | null;
  /** Where flows' `{{env.NAME}}` values come from (process.env unless given). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Serve the browser softphone at `/` (off unless set). */
  softphone?: boolean;
  /** How long a request's headers, and the whole request, may take (ms); HEADERS_ and REQUEST_TIMEOUT_MS unless given. */
  httpTimeouts?: { headersMs: number; requestMs: number };
  /** OpenTelemetry spans of web requests and calls; absent or null: no traces. */
  tracing?: Tracing | null;
  /** The other processes of this server when it runs several (WORKERS > 1); absent: this process is the server. */
  peers?: ClusterPeers;
  /** When new calls are refused (MAX_CALLS, saturation); absent: every call is admitted, nothing measured. */
  admission?: AdmissionConfig;
  /** VAD chunks and recognizer frames dropped since start, for the saturation monitor. */
  dropped?: () => { vadChunks: number; sttFrames: number };
  /** Connections and unauthenticated requests per source address, and connections in all; absent: no limits. */
  edgeLimits?: EdgeLimitsConfig;
  /** The calls API under /api/ (placing calls, campaigns); absent: answered as not found. */
  callsApi?: CallsApi;
}
