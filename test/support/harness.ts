/**
 * Starts a real Switchboard server (on port 0 unless told) with a copy of the example flows (unless told) and the
 * real flite voice.
 */
import { readFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { FlowLibrary } from '../../src/config/flow-library.ts';
import type { Hearing } from '../../src/call/session.ts';
import type { EdgeLimitsConfig } from '../../src/config/env.ts';
import { FlowModels } from '../../src/config/flow-models.ts';
import { ModelCache } from '../../src/nlu/model-cache.ts';
import { renderTemplate, type FlowFile } from '../../src/flow/index.ts';
import { memoryLogger, type LogRecord } from '../../src/observability/logger.ts';
import { SwitchboardApp } from '../../src/server/app.ts';
import { callsApiFor } from '../../src/server/api/api.ts';
import type { TtsEngine } from '../../src/speech/tts/engine.ts';
import { FliteTts } from '../../src/speech/tts/flite.ts';
import { PocketsphinxStt } from '../../src/speech/stt/pocketsphinx.ts';
import { isSwitchboardError } from '../../src/errors.ts';
import { PromptCache } from '../../src/speech/tts/prompt-cache.ts';
import type { CallControl } from '../../src/telephony/call-control.ts';
import { InboundEncoder } from '../../src/telephony/media-streams.ts';
import type { CallJournals } from '../../src/call/journals.ts';
import type { FaultHook } from '../../src/call/call-journal.ts';
import { copyExampleFlows } from '../fixtures/example-flows.ts';
import { streamParams, testJournals } from '../fixtures/journals.ts';

export interface TestServer {
  app: SwitchboardApp;
  url: string;
  wsUrl: string;
  records: LogRecord[];
  prompts: PromptCache;
  flows: FlowLibrary;
  journals: CallJournals;
  /** The parameters the voice webhook would give a new call's stream (its flow and ticket). */
  streamParams(callSid: string, flow?: string): Promise<Record<string, string>>;
  close(): Promise<void>;
}

export async function startServer(
  options: {
    authToken?: string;
    /** Accepted besides `authToken`, as while the token is rotated. */
    authTokenSecondary?: string;
    /** Hosts flows' web requests may reach although private (HTTP_ALLOW_HOSTS), e.g. a local test double. */
    httpAllowHosts?: string[];
    tts?: TtsEngine;
    flowsDir?: string;
    defaultFlow?: string;
    env?: Record<string, string>;
    callControl?: CallControl;
    /** TWILIO_CALLER_ID, for warm transfers of calls whose own number is not a phone number. */
    callerId?: string;
    /** Train and serve each flow's intent model, cached in this folder (exact examples only without it). */
    modelsDir?: string;
    /** Speech recognition for calls (keys only without it); the caller of startServer closes it. */
    hearing?: Hearing;
    /** Where calls are journaled (in memory unless given). */
    journals?: CallJournals;
    faults?: FaultHook;
    /** Serve the browser softphone (off unless set). */
    softphone?: boolean;
    /** Listen on this port (a free one unless given), e.g. to restart a server where a page expects it. */
    port?: number;
    /** Shorter HTTP timeouts than the server's, for tests of slow clients. */
    httpTimeouts?: { headersMs: number; requestMs: number };
    /** Per-source and total connection limits (none unless given). */
    edgeLimits?: EdgeLimitsConfig;
    /** Serve the calls API (POST /api/calls), placing calls through this Twilio REST API (a fake). */
    dialing?: {
      apiKey: string | null;
      accountSid: string;
      authToken: string;
      apiUrl: string;
      callerId?: string;
    };
  } = {},
): Promise<TestServer> {
  const { logger, records } = memoryLogger('debug');
  // Not flows/ itself: the flows a user adds there must not change what a test sees.
  const flowsDir = options.flowsDir
    ? { dir: options.flowsDir, remove: () => Promise.resolve() }
    : await copyExampleFlows();
  const flows = new FlowLibrary({
    dir: flowsDir.dir,
    logger,
    settleMs: 50,
    ...(options.modelsDir
      ? { models: new FlowModels({ cache: new ModelCache({ dir: options.modelsDir }), logger }) }
      : {}),
  });
  await flows.load();
  flows.watch();
  const tts = options.tts ?? new FliteTts();
  const prompts = new PromptCache(tts);
  const journals = options.journals ?? (await testJournals());
  const dialing = options.dialing;
  const callsApi = dialing
    ? callsApiFor(
        {
          apiKey: dialing.apiKey,
          twilioAccountSid: dialing.accountSid,
          twilioAuthToken: dialing.authToken,
          twilioApiUrl: dialing.apiUrl,
          twilioCallerId: dialing.callerId ?? null,
        },
        { flows: flows.flows, journals, logger, publicUrl: () => app.publicUrl },
      )
    : undefined;
  const app: SwitchboardApp = new SwitchboardApp({
    flows: flows.flows,
    journals,
    ...(options.faults ? { faults: options.faults } : {}),
    models: flows.models,
    hearing: options.hearing ?? null,
    defaultFlow: options.defaultFlow ?? 'demo',
    prompts,
    logger,
    twilioAuthToken: options.authToken ?? null,
    ...(options.authTokenSecondary ? { twilioAuthTokenSecondary: options.authTokenSecondary } : {}),
    ...(options.httpAllowHosts ? { httpAllowHosts: options.httpAllowHosts } : {}),
    publicUrl: null,
    callControl: options.callControl ?? null,
    ...(options.callerId ? { twilioCallerId: options.callerId } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.softphone ? { softphone: true } : {}),
    ...(options.httpTimeouts ? { httpTimeouts: options.httpTimeouts } : {}),
    ...(options.edgeLimits ? { edgeLimits: options.edgeLimits } : {}),
    ...(callsApi ? { callsApi } : {}),
  });
  await app.listen(options.port ?? 0, '127.0.0.1');
  return {
    app,
    url: app.publicUrl,
    wsUrl: app.publicUrl.replace(/^http/, 'ws') + '/twilio/media',
    records,
    prompts,
    flows,
    journals,
    streamParams: (callSid, flow) => streamParams(journals, callSid, flow),
    close: async () => {
      await app.close();
      await flows.close();
      await tts.close();
      await flowsDir.remove();
    },
  };
}

const demoFlow = JSON.parse(
  readFileSync(new URL('../../flows/demo.json', import.meta.url), 'utf8'),
) as FlowFile;

/** The text of a demo state's prompt, rendered as the server will synthesize it. */
export function demoPrompt(state: string, slots: Record<string, string> = {}): string {
  const say = demoFlow.states[state]?.say;
  if (say === undefined) throw new Error(`no prompt for ${state}`);
  return renderTemplate(say, slots);
}

/** A raw media-stream client for sending exactly the messages a test wants, good or bad. */
export class RawStream {
  readonly ws: WebSocket;
  readonly received: string[] = [];
  readonly enc: InboundEncoder;
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  constructor(
    url: string,
    readonly callSid: string,
    headers: Record<string, string> = {},
  ) {
    this.ws = new WebSocket(url, { headers });
    this.enc = new InboundEncoder({
      streamSid: 'MZ' + callSid.slice(2),
      callSid,
      accountSid: 'AC' + '0'.repeat(32),
    });
    this.ws.on('message', (data: Buffer) => this.received.push(data.toString()));
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) =>
      this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  send(text: string | Buffer): void {
    this.ws.send(text);
  }

  /** Resolves when a message satisfying `pred` has arrived. */
  async waitFor(pred: (msg: string) => boolean, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const hit = this.received.find(pred);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('timed out waiting for a message');
  }
}

/** Wait until a log record matching `pred` shows up. */
export async function waitForLog(
  records: LogRecord[],
  pred: (r: LogRecord) => boolean,
  timeoutMs = 10_000,
): Promise<LogRecord> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const hit = records.find(pred);
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('timed out waiting for a log record');
}

/**
 * One warmed-up pocketsphinx decoder for a speech test, or null when pocketsphinx is not installed (the test
 * then skips, saying so). The library is found as `serve` finds it: POCKETSPHINX_LIBRARY, else Debian's.
 */
export async function openPocketsphinx(warmUp: Int16Array): Promise<PocketsphinxStt | null> {
  try {
    return await PocketsphinxStt.open({
      decoders: 1,
      warmUpAudio: warmUp,
      library: process.env.POCKETSPHINX_LIBRARY || undefined,
    });
  } catch (err) {
    if (isSwitchboardError(err, 'STT_UNAVAILABLE')) return null;
    throw err;
  }
}
