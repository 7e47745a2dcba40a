/**
 * Server configuration from the environment (the environment table of docs/reference.md). Every variable is optional;
 * bad values are reported with the variable's name rather than guessed around.
 */
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { DEFAULT_MAX_RECORDS } from '../call/call-journal.ts';
import { SwitchboardError } from '../errors.ts';
import { isE164 } from '../common/e164.ts';
// The pure rule alone: the flow engine is not loaded to read the environment.
import { allowEntryProblem } from '../flow/actions/http/egress.ts';
import { DEFAULT_SATURATION, type SaturationThresholds } from '../observability/saturation.ts';
import {
  engineChoices,
  STT_ENGINE_NAMES,
  type SttEngineName,
  TTS_ENGINE_NAMES,
  type TtsEngineName,
} from '../speech/engine-names.ts';
import { parseTwilioApiUrl } from '../telephony/api-url.ts';
import { parseShadowSetting, type ShadowSetting } from '../nlu/shadow.ts';

/** Admission control: when new calls are turned away (docs/operating.md, "Admission control"). */
export interface AdmissionConfig {
  /** ADMISSION: on (default) refuses new calls past MAX_CALLS or while saturated; off admits every call. */
  enabled: boolean;
  /** MAX_CALLS: live calls plus calls admitted whose stream has not started yet; null for no fixed limit. */
  maxCalls: number | null;
  /** BUSY_ANSWER: `say` a short "all lines are busy" and hang up, or `reject` (`<Reject reason="busy"/>`). */
  busyAnswer: 'say' | 'reject';
  /** SATURATION_LOOP_DELAY_MS, SATURATION_FRAMES_LATE, SATURATION_DROPPED, SATURATION_SLOW_TURNS. */
  saturation: SaturationThresholds;
}

/** Limits at the edge, per source address and in total (docs/operating.md, "Limits"). */
export interface EdgeLimitsConfig {
  /** MAX_CONNECTIONS: open connections per process; null derives it from MAX_CALLS and the open-files limit. */
  maxConnections: number | null;
  /** MAX_CONNECTIONS_PER_SOURCE: open connections from one address that have not proven themselves. */
  maxConnectionsPerSource: number;
  /** MAX_UNAUTHENTICATED_PER_SECOND: unauthenticated requests per address per second (twice as many at once). */
  maxUnauthenticatedPerSecond: number;
  /** TRUSTED_SOURCES: addresses and CIDR ranges (a proxy in front) exempt from the per-source limits. */
  trustedSources: readonly string[];
}

export interface ServerConfig {
  host: string;
  /** True when HOST was given: binding beyond loopback is then the operator's choice. */
  hostExplicit: boolean;
  port: number;
  /** The URL Twilio reaches; when null, derived from the address the server listens on. */
  publicUrl: string | null;
  twilioAuthToken: string | null;
  /**
   * TWILIO_AUTH_TOKEN_SECONDARY: while the token is rotated, signatures made with it are accepted too. Only with
   * TWILIO_AUTH_TOKEN; REST calls always use the primary.
   */
  twilioAuthTokenSecondary: string | null;
  /** METRICS_TOKEN: the bearer token GET /metrics needs; null: open, or loopback only in production. */
  metricsToken: string | null;
  /** API_KEY: the bearer token the calls API (POST /api/calls) needs; null: the API is off. */
  apiKey: string | null;
  /** TWILIO_CALLER_ID: the number calls are placed from when a dial names none (E.164); null when not set. */
  twilioCallerId: string | null;
  /** The account whose calls the REST API controls (transfers, redirects, hang-ups); null when not set. */
  twilioAccountSid: string | null;
  /**
   * TWILIO_API_URL: the base URL REST requests go to instead of Twilio (a fake or an emulator), as its origin;
   * null for Twilio itself.
   */
  twilioApiUrl: string | null;
  flowsDir: string;
  /** Where trained intent models are cached, by flow and version. */
  modelsDir: string;
  /** PROMPT_CACHE_DIR: where synthesized prompts are kept across restarts; null ("off") for memory only. */
  promptCacheDir: string | null;
  /** `onnx`: each flow's intent model is trained and served; `off`: flows match their exact examples only. */
  nlu: 'onnx' | 'off';
  /** NLU_SHADOW: a candidate model version run beside each flow's live model on live turns (nlu/shadow.ts). */
  nluShadow: ShadowSetting;
  defaultFlow: string;
  /** Speech synthesis: the embedded flite voice, or Google Cloud Text-to-Speech. */
  tts: TtsEngineName;
  /** Speech recognition: the embedded pocketsphinx engine, Google Cloud Speech-to-Text, or off (keys only). */
  stt: SttEngineName;
  /**
   * GOOGLE_API_ENDPOINT: where both Google clients connect, in plaintext, instead of Google (an emulator or a
   * fake); null for Google itself, with credentials found the usual way (GOOGLE_APPLICATION_CREDENTIALS).
   */
  googleEndpoint: { host: string; port: number } | null;
  /** GOOGLE_STT_API: the Speech-to-Text API version for STT=google; v1 unless set. */
  googleSttApi: 'v1' | 'v2';
  /** GOOGLE_CLOUD_PROJECT: the project of the v2 recognizer; required when GOOGLE_STT_API=v2 and STT=google. */
  googleCloudProject: string | null;
  /** GOOGLE_STT_MODEL: the recognition model; null for the API's phone model (v1 phone_call, v2 telephony). */
  googleSttModel: string | null;
  /** GOOGLE_STT_LOCATION: the location of the v2 recognizer; global unless set. */
  googleSttLocation: string;
  /** Path or soname of libpocketsphinx (POCKETSPHINX_LIBRARY); the engine's default when undefined. */
  pocketsphinxLibrary: string | undefined;
  ttsVoice: string | undefined;
  /** How long SIGTERM waits for live calls to finish before handing them back. */
  drainTimeoutMs: number;
  /** Where call journals are kept: `sqlite:PATH` (embedded), `postgres://...` (several instances), `memory:`. */
  storeUrl: string;
  /**
   * SOFTPHONE: serve the browser softphone at `/`. On unless TWILIO_AUTH_TOKEN is set (a production server),
   * where an operator must turn it on explicitly.
   */
  softphone: boolean;
  admission: AdmissionConfig;
  edgeLimits: EdgeLimitsConfig;
  /**
   * OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT): where OpenTelemetry spans are exported
   * over OTLP/HTTP; null: no traces, and the SDK is not loaded. The other OTEL_* variables are the SDK's.
   */
  otlpEndpoint: string | null;
  /**
   * WORKERS: server processes sharing the port (node:cluster), one per core unless set; 1 runs the server in
   * this process. A `memory:` journal store is one process's, so it runs one.
   */
  workers: number;
  /**
   * HTTP_ALLOW_HOSTS: host names, IP addresses and CIDR ranges flows' web requests may reach although they are
   * loopback, link-local or private; empty: none.
   */
  httpAllowHosts: string[];
  /** JOURNAL_RETENTION_DAYS: ended calls older than this are purged in the background; null keeps them. */
  journalRetentionDays: number | null;
  /** JOURNAL_MAX_RECORDS: the records one call's journal may hold; past it the call ends ('journal full'). */
  journalMaxRecords: number;
}

/** Read the server's configuration; throws CONFIG_INVALID naming the variable at fault. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const token = nonEmpty(env.TWILIO_AUTH_TOKEN);
  const secondaryToken = nonEmpty(env.TWILIO_AUTH_TOKEN_SECONDARY);
  // Alone it would be the only token checked, under a name that says Twilio does not sign with it.
  if (secondaryToken !== null && token === null) {
    throw new SwitchboardError(
      'CONFIG_INVALID',
      'TWILIO_AUTH_TOKEN_SECONDARY is set without TWILIO_AUTH_TOKEN: set the primary token too',
    );
  }
  const accountSid = nonEmpty(env.TWILIO_ACCOUNT_SID);
  // An API key SID (SK...) or a mistyped SID would only fail at the first transfer, mid-call: refuse it at start-up.
  if (accountSid !== null && !/^AC[0-9a-f]{32}$/.test(accountSid)) {
    throw new SwitchboardError(
      'CONFIG_INVALID',
      'TWILIO_ACCOUNT_SID must be "AC" followed by 32 lower-case hex digits, as shown in the Twilio console',
    );
  }
  const apiUrl = nonEmpty(env.TWILIO_API_URL);
  const callerId = nonEmpty(env.TWILIO_CALLER_ID);
  if (callerId !== null && !isE164(callerId)) {
    throw new SwitchboardError(
      'CONFIG_INVALID',
      'TWILIO_CALLER_ID must be a phone number in E.164 form (+ and 7 to 15 digits), e.g. +15551234567',
    );
  }
  const apiKey = nonEmpty(env.API_KEY);
  if (apiKey !== null && apiKey.length < 16) {
    throw new SwitchboardError(
      'CONFIG_INVALID',
      'API_KEY must be at least 16 characters (e.g. openssl rand -hex 24)',
    );
  }
  const host = nonEmpty(env.HOST);
  const publicUrl = nonEmpty(env.PUBLIC_URL);
  if (publicUrl !== null && !/^https?:\/\/[^/?#]+/.test(publicUrl)) {
    throw new SwitchboardError(
      'CONFIG_INVALID',
      'PUBLIC_URL must be an http(s) URL such as https://example.com',
    );
  }
  const tts = engineName(env, 'TTS', TTS_ENGINE_NAMES, 'flite');
  const stt = engineName(env, 'STT', STT_ENGINE_NAMES, 'pocketsphinx');
  const promptCacheDir = nonEmpty(env.PROMPT_CACHE_DIR) ?? './data/prompts';
  const googleSttApi = nonEmpty(env.GOOGLE_STT_API) ?? 'v1';
  if (googleSttApi !== 'v1' && googleSttApi !== 'v2') {
    throw new SwitchboardError('CONFIG_INVALID', `GOOGLE_STT_API=${googleSttApi} is not a choice (v1 or v2)`);
  }
  const googleCloudProject = nonEmpty(env.GOOGLE_CLOUD_PROJECT);
  // Only when v2 is what STT uses: a shared environment may set GOOGLE_STT_API without STT=google.
  if (stt === 'google' && googleSttApi === 'v2' && googleCloudProject === null) {
    throw new SwitchboardError(
      'CONFIG_INVALID',
      'GOOGLE_CLOUD_PROJECT must name the Google Cloud project when STT=google with GOOGLE_STT_API=v2',
    );
  }
  if (googleCloudProject !== null && !/^[A-Za-z0-9._:-]+$/.test(googleCloudProject)) {
    throw new SwitchboardError(
      'CONFIG_INVALID',
      'GOOGLE_CLOUD_PROJECT must be a project id such as my-project',
    );
  }
  const googleSttLocation = nonEmpty(env.GOOGLE_STT_LOCATION) ?? 'global';
  if (!/^[a-z0-9-]+$/.test(googleSttLocation)) {
    throw new SwitchboardError(
      'CONFIG_INVALID',
      'GOOGLE_STT_LOCATION must be a location id such as global, us or europe-west4',
    );
  }
  const softphone = nonEmpty(env.SOFTPHONE) ?? (token === null ? 'on' : 'off');
  if (softphone !== 'on' && softphone !== 'off') {
    throw new SwitchboardError('CONFIG_INVALID', `SOFTPHONE=${softphone} is not a choice (on or off)`);
  }
  const nlu = nonEmpty(env.NLU) ?? 'onnx';
  if (nlu !== 'onnx' && nlu !== 'off') {
    throw new SwitchboardError('CONFIG_INVALID', `NLU=${nlu} is not a choice (onnx or off)`);
  }
  const storeUrl = nonEmpty(env.STORE_URL) ?? 'sqlite:./data/switchboard.db';
  const logPii = nonEmpty(env.LOG_PII);
  if (logPii !== null && logPii !== 'show' && logPii !== 'redact' && logPii !== 'drop') {
    throw new SwitchboardError('CONFIG_INVALID', `LOG_PII=${logPii} is not a choice (show, redact or drop)`);
  }
  let workers = integer(env, 'WORKERS', availableParallelism(), 1, 256);
  if (storeUrl.startsWith('memory:')) {
    if (workers > 1 && nonEmpty(env.WORKERS) !== null) {
      throw new SwitchboardError(
        'CONFIG_INVALID',
        `WORKERS=${workers} needs a journal store the workers share (sqlite: or postgres:); STORE_URL=memory: is one process's`,
      );
    }
    workers = 1;
  }
  return {
    host: host ?? '127.0.0.1',
    hostExplicit: host !== null,
    port: integer(env, 'PORT', 8080, 0, 65535),
    publicUrl: publicUrl?.replace(/\/+$/, '') ?? null,
    twilioAuthToken: token,
    twilioAuthTokenSecondary: secondaryToken,
    metricsToken: nonEmpty(env.METRICS_TOKEN),
    apiKey,
    twilioCallerId: callerId,
    twilioAccountSid: accountSid,
    twilioApiUrl: apiUrl === null ? null : parseTwilioApiUrl(apiUrl),
    flowsDir: nonEmpty(env.FLOWS_DIR) ?? './flows',
    modelsDir: nonEmpty(env.MODELS_DIR) ?? './data/models',
    promptCacheDir: promptCacheDir === 'off' ? null : promptCacheDir,
    nlu,
    nluShadow: parseShadowSetting(env.NLU_SHADOW),
    defaultFlow: nonEmpty(env.DEFAULT_FLOW) ?? 'demo',
    tts,
    stt,
    pocketsphinxLibrary: nonEmpty(env.POCKETSPHINX_LIBRARY) ?? undefined,
    ttsVoice: nonEmpty(env.TTS_VOICE) ?? undefined,
    drainTimeoutMs: integer(env, 'DRAIN_TIMEOUT_MS', 30_000, 0, 3_600_000),
    storeUrl,
    googleEndpoint: hostPort(env, 'GOOGLE_API_ENDPOINT'),
    googleSttApi,
    googleCloudProject,
    googleSttModel: nonEmpty(env.GOOGLE_STT_MODEL),
    googleSttLocation,
    softphone: softphone === 'on',
    admission: admissionFromEnv(env),
    edgeLimits: edgeLimitsFromEnv(env),
    otlpEndpoint: otlpEndpoint(env),
    workers,
    httpAllowHosts: httpAllowHosts(env),
    journalRetentionDays:
      nonEmpty(env.JOURNAL_RETENTION_DAYS) === null
        ? null
        : integer(env, 'JOURNAL_RETENTION_DAYS', 0, 1, 36_500),
    journalMaxRecords: integer(env, 'JOURNAL_MAX_RECORDS', DEFAULT_MAX_RECORDS, 100, 10_000_000),
  };
}

/** The OTLP/HTTP endpoint traces go to, when one is set (and OTEL_SDK_DISABLED is not true); an http(s) URL. */
function otlpEndpoint(env: NodeJS.ProcessEnv): string | null {
  if (nonEmpty(env.OTEL_SDK_DISABLED)?.toLowerCase() === 'true') return null;
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT'] as const) {
    const value = nonEmpty(env[name]);
    if (value === null) continue;
    if (!/^https?:\/\/[^/?#]+/.test(value)) {
      throw new SwitchboardError(
        'CONFIG_INVALID',
        `${name} must be an http(s) URL such as http://127.0.0.1:4318`,
      );
    }
    return value;
  }
  return null;
}

function admissionFromEnv(env: NodeJS.ProcessEnv): AdmissionConfig {
  const admission = nonEmpty(env.ADMISSION) ?? 'on';
  if (admission !== 'on' && admission !== 'off') {
    throw new SwitchboardError('CONFIG_INVALID', `ADMISSION=${admission} is not a choice (on or off)`);
  }
  const busyAnswer = nonEmpty(env.BUSY_ANSWER) ?? 'say';
  if (busyAnswer !== 'say' && busyAnswer !== 'reject') {
    throw new SwitchboardError('CONFIG_INVALID', `BUSY_ANSWER=${busyAnswer} is not a choice (say or reject)`);
  }
  const maxCalls = nonEmpty(env.MAX_CALLS) === null ? null : integer(env, 'MAX_CALLS', 0, 1, 1_000_000);
  // A limit that would be ignored is refused rather than silently dropped.
  if (admission === 'off' && maxCalls !== null) {
    throw new SwitchboardError(
      'CONFIG_INVALID',
      'MAX_CALLS has no effect with ADMISSION=off; unset one of them',
    );
  }
  const d = DEFAULT_SATURATION;
  return {
    enabled: admission === 'on',
    maxCalls,
    busyAnswer,
    saturation: {
      loopDelayMs: integer(env, 'SATURATION_LOOP_DELAY_MS', d.loopDelayMs, 1, 60_000),
      framesLatePerS: integer(env, 'SATURATION_FRAMES_LATE', d.framesLatePerS, 1, 10_000_000),
      droppedPerS: integer(env, 'SATURATION_DROPPED', d.droppedPerS, 1, 10_000_000),
      slowTurnsShare: integer(env, 'SATURATION_SLOW_TURNS', d.slowTurnsShare * 100, 1, 100) / 100,
    },
  };
}

function edgeLimitsFromEnv(env: NodeJS.ProcessEnv): EdgeLimitsConfig {
  const trusted = (nonEmpty(env.TRUSTED_SOURCES) ?? '').split(',').map((s) => s.trim());
  const bad = trusted.find((s) => s !== '' && !isAddressOrRange(s));
  if (bad !== undefined) {
    throw new SwitchboardError(
      'CONFIG_INVALID',
      `TRUSTED_SOURCES takes IP addresses and CIDR ranges (10.0.0.0/8, fd00::/8) separated by commas; got "${bad}"`,
    );
  }
  return {
    maxConnections:
      nonEmpty(env.MAX_CONNECTIONS) === null ? null : integer(env, 'MAX_CONNECTIONS', 0, 16, 1_000_000),
    maxConnectionsPerSource: integer(env, 'MAX_CONNECTIONS_PER_SOURCE', 64, 1, 1_000_000),
    maxUnauthenticatedPerSecond: integer(env, 'MAX_UNAUTHENTICATED_PER_SECOND', 20, 1, 1_000_000),
    trustedSources: trusted.filter((s) => s !== ''),
  };
}

/** An IP address, or one with a prefix length that fits its family. */
function isAddressOrRange(text: string): boolean {
  const [address = '', prefix, ...rest] = text.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}

/** HTTP_ALLOW_HOSTS: comma-separated host names, IP addresses and CIDR ranges, each checked. */
export function httpAllowHosts(env: NodeJS.ProcessEnv): string[] {
  const entries = (nonEmpty(env.HTTP_ALLOW_HOSTS) ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const entry of entries) {
    const problem = allowEntryProblem(entry);
    if (problem !== null) throw new SwitchboardError('CONFIG_INVALID', `HTTP_ALLOW_HOSTS: ${problem}`);
  }
  return entries;
}

/** The engine `name` chooses, one of `names` (the registry's, src/speech/engine-names.ts), or `fallback`. */
function engineName<N extends string>(
  env: NodeJS.ProcessEnv,
  name: 'TTS' | 'STT',
  names: readonly N[],
  fallback: N,
): N {
  const value = nonEmpty(env[name]) ?? fallback;
  const chosen = names.find((n) => n === value);
  if (chosen === undefined) {
    throw new SwitchboardError(
      'CONFIG_INVALID',
      `${name}=${value} is not an available engine (${engineChoices(names)})`,
    );
  }
  return chosen;
}

/** `host:port` (an IPv6 host in brackets), or null when unset. */
function hostPort(env: NodeJS.ProcessEnv, name: string): { host: string; port: number } | null {
  const raw = nonEmpty(env[name]);
  if (raw === null) return null;
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(raw);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new SwitchboardError('CONFIG_INVALID', `${name} must be host:port, such as 127.0.0.1:8085`);
  }
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value.trim() === '' ? null : value.trim();
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = nonEmpty(env[name]);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new SwitchboardError('CONFIG_INVALID', `${name} must be an integer from ${min} to ${max}`);
  }
  return n;
}
