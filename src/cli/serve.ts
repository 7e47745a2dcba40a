/**
 * `switchboard serve`: loads configuration and flows, starts the embedded engines and the server, prints a
 * banner, and drains on SIGTERM/SIGINT.
 */
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { configFromEnv, type ServerConfig } from '../config/env.ts';
import { FlowLibrary } from '../config/flow-library.ts';
import { FlowModels } from '../config/flow-models.ts';
import type { SharedIntentModel } from '../nlu/shared-model.ts';
import { ModelCache } from '../nlu/model-cache.ts';
import { isSwitchboardError } from '../errors.ts';
import { flowEnvNames, formatFindings, unsetEnvNames, type CompiledFlow } from '../flow/index.ts';
import { loggerFromEnv, type Logger } from '../observability/logger.ts';
import { CallJournals } from '../call/journals.ts';
import { shareablePrompts } from '../call/shareable-prompts.ts';
import { keyringFromEnv, type Keyring } from '../journal/keyring.ts';
import { openStore } from '../journal/open-store.ts';
import { RetentionSweeper } from '../journal/retention.ts';
import { systemClock } from '../clock.ts';
import { openTracing } from '../tracing/tracing.ts';
import { SwitchboardApp } from '../server/app.ts';
import { callsApiFor } from '../server/api/api.ts';
import { ClusterPeers } from '../server/cluster/peers.ts';
import { runPrimary } from '../server/cluster/primary.ts';
import { WorkerLink } from '../server/cluster/worker-link.ts';
import { CallControl } from '../telephony/call-control.ts';
import { STT_ENGINES, TTS_ENGINES, ttsEngine } from '../speech/registry.ts';
import { PromptCache } from '../speech/tts/prompt-cache.ts';
import { openFallbackSpeech } from './fallback-speech.ts';
import { openHearing } from './hearing.ts';

/** A variable's line of the help: its engines' own descriptions, wrapped under the description column. */
function choices(name: string, lead: string, engines: readonly { help: string }[]): string {
  const words = (lead + engines.map((e) => e.help).join(' | ')).split(' ');
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line !== '' && name.length + line.length + 1 + word.length > HELP_WIDTH) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines.map((l, i) => (i === 0 ? name : ' '.repeat(name.length)) + l).join('\n');
}

const HELP_WIDTH = 96;

const HELP = `usage: switchboard serve

Environment (all optional):
  PORT               port to listen on (8080; 0 picks a free one)
  HOST               address to bind (127.0.0.1)
  PUBLIC_URL         the URL Twilio reaches, e.g. https://voice.example.com
  TWILIO_AUTH_TOKEN  check X-Twilio-Signature on webhooks and the media websocket
  TWILIO_AUTH_TOKEN_SECONDARY
                     while rotating the token: signatures made with it are accepted too (needs
                     TWILIO_AUTH_TOKEN; REST calls use the primary)
  TWILIO_ACCOUNT_SID with the token, lets flows transfer calls (Twilio REST API)
  TWILIO_API_URL     base URL of a Twilio REST API fake or emulator (https, or http on loopback)
  API_KEY            turn on the calls API (POST /api/calls, switchboard dial): its bearer token, 16
                     characters or more; placing calls also needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN
  TWILIO_CALLER_ID   the number calls are placed from when a dial names none (E.164)
  FLOWS_DIR          folder of flow files (./flows)
  MODELS_DIR         cache of the flows' trained intent models (./data/models)
  NLU_SHADOW         a candidate model version run beside the live model on every turn, its disagreements
                     journaled and counted: VERSION, or FLOW=VERSION[,FLOW=VERSION...]
  STORE_URL          where calls are journaled: sqlite:PATH (sqlite:./data/switchboard.db) or
                     postgres://user@host:port/db[?schema=NAME] for several instances sharing calls
  NLU                onnx (each flow's intent model is trained and served) | off (exact examples only)
  DEFAULT_FLOW       flow for calls that name none (demo)
  HTTP_ALLOW_HOSTS   hosts, IP addresses and CIDR ranges (comma-separated) that flows' web requests may
                     reach although loopback, link-local or private (unset: none)
${choices('  TTS, TTS_VOICE     ', 'speech engine: ', TTS_ENGINES)}
${choices('  STT                ', 'speech recognition: ', STT_ENGINES)}
  GOOGLE_API_ENDPOINT
                     host:port of a Speech/Text-to-Speech emulator or fake (plaintext); unset: Google, with
                     credentials found the usual way (GOOGLE_APPLICATION_CREDENTIALS)
  GOOGLE_STT_API     v1 (model phone_call, enhanced) | v2 (model telephony; needs GOOGLE_CLOUD_PROJECT)
  GOOGLE_STT_MODEL, GOOGLE_STT_LOCATION
                     another recognition model; the v2 location (global)
  PROMPT_CACHE_DIR   where synthesized prompts are kept across restarts (./data/prompts); "off" for none
  POCKETSPHINX_LIBRARY
                     path or soname of libpocketsphinx (libpocketsphinx.so.3)
  SOFTPHONE          on | off: the browser softphone at / (on unless TWILIO_AUTH_TOKEN is set)
  DRAIN_TIMEOUT_MS   how long SIGTERM waits for live calls (30000)
  WORKERS            server processes sharing the port, one per core (${availableParallelism()} here); 1 for one
                     process
  MAX_CALLS          calls per process past which new calls hear "all lines are busy" (unset: no fixed
                     limit; measured saturation still refuses them)
  ADMISSION          on | off: off admits every call, however loaded the process (on)
  BUSY_ANSWER        say (a short busy message, then hang up) | reject (<Reject reason="busy"/>) (say)
  MAX_CONNECTIONS    open connections per process, past which new ones are closed at once (unset: twice
                     MAX_CALLS plus 256, else 4096, kept 256 under the open-files limit)
  MAX_CONNECTIONS_PER_SOURCE
                     connections one address may hold before they prove themselves (a signed or attached
                     media stream no longer counts); past it, 429 (64)
  MAX_UNAUTHENTICATED_PER_SECOND
                     requests per second one address may make that are refused, or that need no
                     credentials (health, metrics), twice that at once; past it, 429 (20)
  TRUSTED_SOURCES    addresses and CIDR ranges exempt from the per-source limits, e.g. a proxy in front
  SATURATION_LOOP_DELAY_MS, SATURATION_FRAMES_LATE, SATURATION_DROPPED, SATURATION_SLOW_TURNS
                     saturated past: event-loop p99 delay, ms (60); agent audio frames sent late, per
                     second (50); caller audio chunks dropped, per second (20); turns answered over 1 s
                     after they ended, percent (10)
  METRICS_TOKEN      bearer token GET /metrics needs (unset: open, or loopback only with TWILIO_AUTH_TOKEN)
  LOG_LEVEL          debug | info | warn | error (info)
  LOG_PII            show | redact | drop: personal data in log lines (drop when TWILIO_AUTH_TOKEN is set,
                     redact otherwise)
  JOURNAL_KEY        64 hex digits: encrypt journals' personal fields (AES-256-GCM); several, comma-
                     separated, newest first, to rotate. JOURNAL_KEY_FILE: the same, one key per line
  JOURNAL_RETENTION_DAYS
                     purge ended calls this many days old (unset: keep them)
  OTEL_EXPORTER_OTLP_ENDPOINT
                     export OpenTelemetry traces over OTLP/HTTP to this URL (e.g. http://127.0.0.1:4318);
                     unset: no traces. OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_HEADERS, OTEL_TRACES_SAMPLER apply

The banner lists, per flow, the environment variables it reads ({{env.NAME}}) that are not set.
Exit status: 0 after a clean shutdown (SIGTERM or SIGINT); 1 when the server cannot start (a configuration
error, no valid flow, a port in use); 2 for a usage error.`;

export async function main(args: string[]): Promise<number> {
  let values: { help?: boolean };
  try {
    ({ values } = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    console.error(`switchboard serve: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  // Every file the server makes (journal and its WAL, prompts, models) is its user's alone: they hold callers'
  // words and numbers. Workers inherit it.
  process.umask(0o077);
  const config = configFromEnv();
  // A bad journal key stops the server here, once, before any worker starts.
  keyringFromEnv(process.env);
  if (config.workers > 1 && cluster.isPrimary) {
    return runPrimary({
      workers: config.workers,
      logger: loggerFromEnv(),
      drainTimeoutMs: config.drainTimeoutMs,
      print: (text) => console.log(text),
    });
  }
  // A worker of several (WORKERS > 1): the primary prints the banner, relays, and says when to drain.
  const link = WorkerLink.ofThisProcess();
  const logger = link ? loggerFromEnv().child({ worker: link.slot }) : loggerFromEnv();
  // What has been started, closed in reverse on shutdown or when start-up fails, so the process ends.
  const started: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const close of started.splice(0).reverse()) {
      await close().catch((err: unknown) => logger.error('shutdown step failed', { err }));
    }
  };
  try {
    const running = await start(config, logger, started, link);
    if (running === null) {
      await closeAll();
      if (link) leaveCluster();
      return 1;
    }
    if (link) link.ready(running.banner);
    else console.log(running.banner.join('\n'));
    const app = running.app;
    let stopping = false;
    const stop = async (signal: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      logger.info('shutting down', { signal, liveCalls: app.activeCalls });
      const report = await app.drain(config.drainTimeoutMs);
      logger.info('drained', { ...report });
      await closeAll();
      process.exitCode = 0;
      if (link) leaveCluster();
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
    link?.onDrain((signal) => void stop(signal));
    return 0;
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** A worker's last step: the channel to the primary closes and the process exits once its work is done. */
function leaveCluster(): void {
  cluster.worker?.disconnect();
}

/**
 * Loads flows, starts the engines and the server, and gives the banner to print; each thing started adds its
 * close to `started`. Null, said why, when there is no flow to serve or the server cannot listen. `link`: this
 * process is one worker of several, and only the first says what the others would repeat.
 */
async function start(
  config: ServerConfig,
  logger: Logger,
  started: (() => Promise<void>)[],
  link: WorkerLink | null,
): Promise<{ app: SwitchboardApp; banner: string[] } | null> {
  const quiet = link !== null && link.slot > 1;
  // Null, and the OpenTelemetry SDK never loaded, unless OTEL_EXPORTER_OTLP_ENDPOINT is set.
  const tracing = await openTracing(config, logger);
  if (tracing) started.push(() => tracing.close());
  // Opened before anything slow, so a wrong STORE_URL is reported at once.
  const keyring = keyringFromEnv(process.env);
  const opened = await openStore(config.storeUrl, { logger, keyring });
  const store = tracing?.journal(opened) ?? opened;
  started.push(() => store.close());
  // One sweeper per server: the first worker's, not one racing per worker.
  if (config.journalRetentionDays !== null && (link === null || link.slot === 1)) {
    const sweeper = new RetentionSweeper({
      store,
      days: config.journalRetentionDays,
      clock: systemClock,
      logger,
    });
    sweeper.start();
    started.push(() => sweeper.stop());
  }
  const journals = new CallJournals(store, undefined, { maxRecords: config.journalMaxRecords });
  await journals.init();

  const models =
    config.nlu === 'onnx'
      ? new FlowModels({
          cache: new ModelCache({ dir: config.modelsDir }),
          logger,
          shadow: config.nluShadow,
        })
      : undefined;
  const library = new FlowLibrary({ dir: config.flowsDir, logger, ...(models ? { models } : {}) });
  started.push(() => library.close());
  // Missing or stale intent models are trained here, before the first call can arrive.
  await library.load();
  // The same report as `switchboard validate`, so a refused flow says where and why in the terminal too.
  if (!quiet) {
    for (const rejected of library.rejected) console.error(formatFindings(rejected.file, rejected.findings));
  }
  if (library.flows.size === 0) {
    console.error(`switchboard: no valid flow in ${config.flowsDir}`);
    return null;
  }
  library.watch();
  if (!library.flows.has(config.defaultFlow)) {
    logger.warn('default flow is not loaded; calls must name a flow', { defaultFlow: config.defaultFlow });
  }
  const unsetEnv = unsetEnvByFlow(library.flows);
  for (const { flow, unset } of unsetEnv) {
    logger.warn('flow reads environment variables that are not set', { flow, env: unset });
  }

  const tts = await ttsEngine(config.tts).open({ config, logger, role: 'primary' });
  started.push(() => tts.close());
  const prompts = new PromptCache(tts, {
    logger,
    ...(config.promptCacheDir === null
      ? {}
      : { dir: config.promptCacheDir, persist: shareablePrompts(library.flows) }),
  });
  const hearing = await openHearing(config, tts, logger);
  started.push(() => hearing.close());
  const failover = openFallbackSpeech(config, logger);
  started.push(() => failover.close());
  // Transfers need the REST API; its library is loaded now, not on a live call's audio path.
  const callControl =
    config.twilioAccountSid && config.twilioAuthToken
      ? new CallControl({
          accountSid: config.twilioAccountSid,
          authToken: config.twilioAuthToken,
          logger,
          ...(config.twilioApiUrl === null ? {} : { apiUrl: config.twilioApiUrl }),
        })
      : null;
  callControl?.warm();
  const callsApi = callsApiFor(config, {
    flows: library.flows,
    journals,
    logger,
    publicUrl: () => app.publicUrl,
  });
  const app = new SwitchboardApp({
    flows: library.flows,
    journals,
    models: library.models,
    hearing: hearing.hearing,
    defaultFlow: config.defaultFlow,
    prompts,
    fallback: failover.fallback,
    logger,
    twilioAuthToken: config.twilioAuthToken,
    twilioAuthTokenSecondary: config.twilioAuthTokenSecondary,
    metricsToken: config.metricsToken,
    httpAllowHosts: config.httpAllowHosts,
    publicUrl: config.publicUrl,
    callControl,
    twilioCallerId: config.twilioCallerId,
    softphone: config.softphone,
    tracing,
    admission: config.admission,
    edgeLimits: config.edgeLimits,
    callsApi,
    dropped: () => hearing.dropped(),
    ...(link ? { peers: new ClusterPeers(link) } : {}),
  });
  started.push(() => app.close());
  app.metrics.registry.collect(() => {
    const dropped = hearing.dropped();
    app.metrics.vadChunksDropped.set(dropped.vadChunks);
    app.metrics.sttFramesDropped.set(dropped.sttFrames);
    const shed = tts.shed;
    if (shed) {
      app.metrics.ttsRequestsShed.set(shed.queueFull, { reason: 'queue_full' });
      app.metrics.ttsRequestsShed.set(shed.waitedTooLong, { reason: 'waited_too_long' });
    }
  });
  let address;
  try {
    address = await app.listen(config.port, config.host);
  } catch (err) {
    if (!isSwitchboardError(err, 'CONFIG_INVALID')) throw err;
    logger.error('server cannot listen', { code: err.code, ...err.data });
    console.error(`switchboard: ${err.message}; ${listenHint(err.data.systemCode)}`);
    return null;
  }

  const security = config.twilioAuthToken
    ? 'Twilio signatures are checked on webhooks and the media websocket'
    : config.hostExplicit
      ? 'WARNING: TWILIO_AUTH_TOKEN is not set, so requests are not authenticated; HOST was set explicitly'
      : 'TWILIO_AUTH_TOKEN is not set: requests are not authenticated, so the server listens on loopback only (set HOST to change that)';
  const banner = [
    `Switchboard listening on http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
    `  public URL : ${app.publicUrl}  (voice webhook: ${app.publicUrl}/twilio/voice)`,
    `  flows      : ${[...library.flows.keys()].join(', ')}${library.rejected.length ? `  (refused: ${library.rejected.map((r) => r.file).join(', ')})` : ''}; edits reload for new calls`,
    ...envLine(library.flows, unsetEnv),
    `  intents    : ${understandingLine(config.nlu, library.flows.size, library.models, config.modelsDir)}`,
    `  journal    : ${journalLine(store.kind, store.location)}`,
    `  at rest    : ${atRestLine(keyring, config.journalRetentionDays)}`,
    `  speech     : TTS ${tts.name} (voice ${tts.defaultVoice}); ${hearing.summary}`,
    `  failover   : ${failover.summary}`,
    `  security   : ${security}`,
    `  transfers  : ${callControl ? `through the Twilio REST API${config.twilioApiUrl === null ? '' : ` at ${config.twilioApiUrl}`}` : 'off (set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)'}`,
    `  try it     : npx switchboard call --url ${app.publicUrl} --dtmf 1`,
    `  softphone  : ${config.softphone ? `${app.publicUrl}/ (talk to a flow from the browser)` : 'off (SOFTPHONE=on to serve it)'}`,
  ];
  logger.info(link ? 'worker started' : 'server started', {
    pid: process.pid,
    port: address.port,
    host: address.address,
    flows: [...library.flows.keys()],
  });
  return { app, banner };
}

/** Whether callers' data is sealed in the journal, and how long ended calls are kept. */
function atRestLine(keyring: Keyring, retentionDays: number | null): string {
  const sealing = keyring.current
    ? `personal fields encrypted (AES-256-GCM, key ${keyring.current.id}${keyring.size > 1 ? `, ${keyring.size - 1} older key(s) to read` : ''})`
    : 'personal fields in clear (set JOURNAL_KEY to encrypt them)';
  const kept =
    retentionDays === null
      ? 'ended calls kept until erased'
      : `ended calls purged after ${retentionDays} days`;
  return `${sealing}; ${kept}`;
}

/** What to do about an address the server cannot listen on, by the system's reason. */
function listenHint(code: unknown): string {
  if (code === 'EADDRINUSE')
    return 'stop what is using it (another switchboard serve?), or set PORT to another port (PORT=0 picks a free one)';
  if (code === 'EACCES')
    return 'ports below 1024 need privileges: set PORT to 1024 or above (PORT=0 picks a free one)';
  if (code === 'EADDRNOTAVAIL') return 'set HOST to an address of this machine, such as 127.0.0.1 or 0.0.0.0';
  return 'check PORT and HOST';
}

/** Per flow, the environment variables it reads that are not set: what it builds from them fails. */
function unsetEnvByFlow(flows: ReadonlyMap<string, CompiledFlow>): { flow: string; unset: string[] }[] {
  return [...flows]
    .map(([flow, compiled]) => ({ flow, unset: unsetEnvNames(flowEnvNames(compiled.flow), process.env) }))
    .filter(({ unset }) => unset.length > 0);
}

/** The banner's env line, when any flow reads environment variables. */
function envLine(
  flows: ReadonlyMap<string, CompiledFlow>,
  unset: readonly { flow: string; unset: string[] }[],
): string[] {
  const read = new Set([...flows.values()].flatMap((c) => flowEnvNames(c.flow)));
  if (read.size === 0) return [];
  if (unset.length === 0) return [`  env        : all set (${[...read].sort().join(', ')})`];
  const list = unset.map(({ flow, unset: names }) => `${names.join(', ')} (${flow})`).join('; ');
  return [`  env        : not set: ${list}; web requests and transfers built from them fail`];
}

function journalLine(kind: string, location: string): string {
  if (kind === 'memory') return 'memory (STORE_URL=memory:); calls do not survive a restart';
  const resume =
    kind === 'postgres' ? 'calls resume on any instance sharing it' : 'calls resume on this machine';
  return `${kind} ${location}; ${resume}`;
}

function understandingLine(
  nlu: 'onnx' | 'off',
  flows: number,
  models: ReadonlyMap<string, SharedIntentModel>,
  dir: string,
): string {
  if (nlu === 'off') return 'exact examples only (NLU=off)';
  const missing = flows - models.size;
  const shadowed = [...models].flatMap(([flow, m]) => (m.shadow ? [`${flow} by ${m.shadow.version}`] : []));
  return (
    `ONNX models for ${models.size} of ${flows} flows (cached in ${dir})` +
    (missing ? `; ${missing} failed to train, see the log` : '') +
    (shadowed.length ? `; shadowed: ${shadowed.join(', ')}` : '')
  );
}
