/**
 * One media stream: the bridge between a Twilio Media Streams websocket and one call's supervised actor. It
 * enforces the protocol's order (connected, start, then media/dtmf/mark, then stop), paces the agent's audio in
 * real time, tracks which marks the caller has heard, and ends the call cleanly on any bad input, touching no
 * other call.
 */
import { FRAME_MS } from '../audio/frames.ts';
import { MULAW_SILENCE } from '../audio/mulaw.ts';
import { Pacer, type PacerClock } from '../audio/pacer.ts';
import { SwitchboardError, isSwitchboardError } from '../errors.ts';
import {
  BOOT_STATE,
  captureEnv,
  flowEnvNames,
  unsetEnvOfRequest,
  waitsForInput,
  type CallEvent,
  type CompiledFlow,
  type Effect,
  type FlowFile,
  type StateDef,
} from '../flow/index.ts';
import type { SharedIntentModel } from '../nlu/shared-model.ts';
import type { Logger } from '../observability/logger.ts';
import type { ServerMetrics } from '../observability/metrics.ts';
import type { SttEngine } from '../speech/stt/engine.ts';
import type { CallControl } from '../telephony/call-control.ts';
import {
  MAX_MESSAGE_BYTES,
  OutboundEncoder,
  decodePayloadInto,
  parseInbound,
  type InboundMessage,
  type StartMessage,
} from '../telephony/media-streams.ts';
import type { CallViewEvent, CallViews } from './call-view.ts';
import { EffectRunner, type CallAudio, type PromptSource } from './effects.ts';
import { performHttp } from './http-action.ts';
import { KeypadTurns } from './keypad-turns.ts';
import { PlayedText } from './played-text.ts';
import { listenContext } from './listen-context.ts';
import { CallListener, FRAME_SAMPLES, type HeardTurn, type VadOpener } from './listener.ts';
import { SpeechFailover, type FallbackSpeech } from './speech-failover.ts';
import type { FaultHook } from './call-journal.ts';
import type { CallJournals } from './journals.ts';
import { recover } from './recovery.ts';
import { CallSupervisor } from './supervisor.ts';
import { localDate, Understanding } from './understanding.ts';

/** The part of a websocket a session uses; `ws`'s WebSocket fits, and so does a test double. */
export interface StreamSocket {
  send(data: string): void;
  close(code: number, reason: string): void;
  readonly bufferedAmount: number;
}

/** When the steps of a heard turn happened (performance.now), and the silence window that ended it. */
interface TurnTiming {
  endDecidedAt: number;
  transcribedAt: number;
  decidedAt: number;
  silenceMs: number;
}

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
  /** Twilio REST control for transfers; null when no account credentials are configured. */
  callControl?: CallControl | null;
  /** Where calls are journaled, and how streams attach to them. */
  journals: CallJournals;
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
  now?: () => number;
}

export type SessionPhase = 'new' | 'live' | 'ended';

/** Websocket close codes we use, with the reason each is sent. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  policy: 1008,
  internal: 1011,
} as const;

/** Past this much unsent data the peer is not reading; the call is ended rather than buffering without bound. */
const MAX_BUFFERED_BYTES = 1 << 20;

const NO_FRAMES: readonly string[] = Object.freeze([]);
/** Events that arrive while the call is still being attached to its journal wait, up to this many. */
const MAX_EARLY_EVENTS = 64;
/** How long the end of a call waits for its journal before the stream is closed anyway. */
const END_JOURNAL_WAIT_MS = 2000;
/**
 * Ways a stream ends that do not end the conversation: the call can be resumed on a new stream (Twilio asks the
 * `<Connect action>`), on this instance or another.
 */
const RESUMABLE = new Set(['stream closed', 'stream dropped', 'handed back', 'journal failed']);
/** Whether speech may interrupt the state's prompt (`bargeIn` true, the default). */
function speechInterrupts(def: StateDef): boolean {
  return (def.bargeIn ?? true) === true;
}

/** Silence that ends a caller's turn in a state that does not set `endOfTurnMs`. */
const DEFAULT_END_OF_TURN_MS = 700;

const SAMPLES_PER_MS = FRAME_SAMPLES / FRAME_MS;
/** The most silence one timestamp gap is filled with: a bogus jump must not make a call loop or lag behind. */
const MAX_GAP_FILL_MS = 1000;
const MAX_GAP_FILL_FRAMES = MAX_GAP_FILL_MS / FRAME_MS;
/** One frame of mu-law silence, shared by every call: the listener only reads it. */
const SILENCE_FRAME = new Uint8Array(FRAME_SAMPLES).fill(MULAW_SILENCE);

export class MediaSession {
  readonly #socket: StreamSocket;
  readonly #deps: SessionDeps;
  readonly #now: () => number;
  #log: Logger;
  #phase: SessionPhase = 'new';
  #connectedSeen = false;
  #streamSid = '';
  #callId: string | null = null;
  #encoder: OutboundEncoder | null = null;
  #pacer: Pacer | null = null;
  #supervisor: CallSupervisor | null = null;
  /** Resolves once the session has ended and closed its socket (after its journal, when it had one). */
  #closed: Promise<void> = Promise.resolve();
  /** Events delivered before the supervisor exists (the journal is being read). */
  #early: CallEvent[] | null = [];
  #runner: EffectRunner | null = null;
  /** Marks sent to Twilio and not yet echoed. */
  readonly #inFlight = new Set<string>();
  /** Marks whose audio was cleared: Twilio echoes them, but the caller did not hear them out. */
  readonly #cleared = new Set<string>();
  #idleWaiters: (() => void)[] = [];
  #startedAt = 0;
  #firstMediaSent = false;
  /** A transfer was accepted by Twilio: the coming stop is the hand-over, not a hang-up. */
  #transferring = false;
  /** Audio has been sent that no mark follows yet (a prompt's first sentences): Twilio may still be playing it. */
  #unmarkedAudio = false;
  #framesIn = 0;
  #framesOut = 0;
  #lastTimestamp = -1;
  #outOfOrder = 0;
  /** The sentences queued and not yet heard to their mark: what a cut prompt had said so far. */
  readonly #playedText = new PlayedText();
  /** Where the next inbound frame should start (ms of the stream), once audio has been heard; -1 before. */
  #nextTimestamp = -1;
  /** Silent frames given to the listener for gaps in the inbound timestamps (lost packets). */
  #gapFrames = 0;
  #endedListeners: ((reason: string) => void)[] = [];
  /** The intent model the call started with, kept for the whole call even if its flow's model is replaced. */
  #model: SharedIntentModel | null = null;
  #releaseModel: (() => void) | null = null;
  #flow: FlowFile | null = null;
  /** Hears the caller when the server has speech recognition. */
  #listener: CallListener | null = null;
  /** Which engines the call speaks and hears with, as its flow's failover policy and its failures decide. */
  #speech: SpeechFailover | null = null;
  /** Inbound audio decoded here, one message at a time. */
  #inbound: Buffer | null = null;
  /** The last heard turn, until the agent's first audio after it: the turn's latency is logged then. */
  #turnTiming: TurnTiming | null = null;
  /** Where this call's live view goes, when it has one (decided at start). */
  #views: CallViews | null = null;
  /** The flow state and slots last published to the view. */
  #viewed: { state: string; slots: Record<string, string> } | null = null;
  /** The caller's keypad entries, for the view. */
  readonly #keypad = new KeypadTurns();

  constructor(socket: StreamSocket, deps: SessionDeps) {
    this.#socket = socket;
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#log = deps.logger;
  }

  get phase(): SessionPhase {
    return this.#phase;
  }

  get callId(): string | null {
    return this.#callId;
  }

  /** The version of the intent model this call uses; null before start or when its flow has none. */
  get modelVersion(): string | null {
    return this.#model?.version ?? null;
  }

  /** The conversation's current flow state, when the call is live. */
  get flowState(): string | null {
    return this.#supervisor?.context?.state ?? null;
  }

  /** Resolves once the session has ended and its socket has been closed. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  onEnded(listener: (reason: string) => void): void {
    this.#endedListeners.push(listener);
  }

  /** Handle one websocket message. Never throws: bad input ends this call with a log line. */
  handleMessage(raw: string | Buffer): void {
    if (this.#phase === 'ended') return;
    let message: InboundMessage;
    try {
      message = parseInbound(raw);
      this.#dispatch(message);
    } catch (err) {
      this.#fail(err);
    }
  }

  /** The socket closed under us (caller hung up, Twilio went away, or the network dropped). */
  handleClose(code: number): void {
    if (this.#phase === 'ended') return;
    this.#end(code === CloseCode.normal ? 'stream closed' : 'stream dropped', null, { closeCode: code });
  }

  /** End this call for an error raised outside message handling (e.g. by the socket). */
  reject(err: unknown): void {
    if (this.#phase !== 'ended') this.#fail(err);
  }

  /** End the call because the server is draining: Twilio then asks the `<Connect action>` where to go next. */
  handBack(): Promise<void> {
    this.#end('handed back', CloseCode.goingAway);
    return this.#closed;
  }

  #dispatch(message: InboundMessage): void {
    switch (message.event) {
      case 'connected':
        if (this.#connectedSeen || this.#phase !== 'new') throw outOfOrder('connected', 'a second connected');
        this.#connectedSeen = true;
        return;
      case 'start':
        if (this.#phase !== 'new') throw outOfOrder('start', 'a second start on one stream');
        this.#start(message);
        return;
      case 'stop':
        this.#requireLive(message.event, message.streamSid);
        // A redirect to <Dial> stops the stream just as a hang-up does.
        this.#end(this.#transferring ? 'transferred' : 'caller hung up', CloseCode.normal);
        return;
    }
    this.#requireLive(message.event, message.streamSid);
    switch (message.event) {
      case 'media':
        if (message.media.track !== 'inbound') return;
        this.#framesIn += 1;
        this.#deps.metrics.mediaIn.inc();
        // Frames can arrive out of order after network gaps; counted now, reordered by the listener that needs it.
        if (
          message.media.timestamp < this.#lastTimestamp &&
          this.#lastTimestamp - message.media.timestamp <= MAX_GAP_FILL_MS
        ) {
          // The listener needs audio in order; a frame overtaken by later ones is too late to matter. One far
          // behind is not late but a clock that jumped (a bogus timestamp before it): taken, so audio goes on.
          this.#outOfOrder += 1;
          return;
        }
        this.#lastTimestamp = message.media.timestamp;
        this.#hear(message.media.payload, message.media.timestamp);
        return;
      case 'dtmf':
        this.#log.info('dtmf received', { pii: { digit: message.dtmf.digit } });
        if (this.#currentState()?.bargeIn === false && this.#agentSpeaking()) {
          this.#log.debug('key ignored: this prompt cannot be interrupted');
          return;
        }
        this.#deliver({ type: 'dtmf', at: this.#now(), digit: message.dtmf.digit });
        return;
      case 'mark':
        this.#markEchoed(message.mark.name);
        return;
    }
  }

  #requireLive(event: string, streamSid: string): void {
    if (this.#phase !== 'live') throw outOfOrder(event, `${event} before start`);
    if (streamSid !== this.#streamSid) {
      throw new SwitchboardError('MEDIA_BAD_MESSAGE', 'streamSid does not match the stream', {
        event,
        streamSid,
      });
    }
  }

  #start(message: StartMessage): void {
    const { streamSid, callSid, customParameters } = message.start;
    const flowName = customParameters.flow ?? this.#deps.defaultFlow;
    this.#streamSid = streamSid;
    this.#callId = callSid;
    this.#startedAt = this.#now();
    if (this.#deps.views?.has(callSid)) this.#views = this.#deps.views;
    this.#log = this.#deps.logger.child({ callId: callSid, streamSid });
    const compiled = this.#deps.flows.get(flowName);
    if (!compiled) {
      throw new SwitchboardError('FLOW_NOT_FOUND', `"${flowName}"`, { flow: flowName });
    }
    this.#phase = 'live';
    this.#log = this.#log.child({ flow: compiled.flow.id });
    this.#flow = compiled.flow;
    // Taken in the same turn as the flow, so the two always belong together.
    this.#model = this.#deps.models?.get(flowName) ?? null;
    this.#releaseModel = this.#model?.retain() ?? null;
    this.#encoder = new OutboundEncoder(streamSid);
    this.#pacer = new Pacer({
      sendMedia: (payload) => this.#sendMedia(payload),
      sendMark: (name) => this.#sendMark(name),
    });
    this.#deps.pacerClock.add(this.#pacer);
    const audio: CallAudio = {
      play: (prompt, mark, text) => this.#play(prompt.frames, mark, text),
      mark: (name) => this.#play(NO_FRAMES, name),
      clear: () => this.#clear(),
      idle: () => this.#idle(),
      hangup: (reason) => this.#end(reason, CloseCode.normal),
      transfer: (to) => this.#transfer(callSid, to),
    };
    this.#speech = new SpeechFailover({
      rule: compiled.policy.speechFailover,
      stt: this.#deps.hearing?.stt ?? null,
      prompts: this.#deps.prompts,
      fallback: this.#deps.fallback ?? null,
      modes: () => this.#supervisor?.context?.speech ?? {},
      request: (service, to) => this.#deliver({ type: 'speech.failover', at: this.#now(), service, to }),
      logger: this.#log,
    });
    this.#runner = new EffectRunner({
      prompts: this.#speech.prompts,
      ...(compiled.flow.language ? { language: compiled.flow.language } : {}),
      audio,
      http: (effect, signal) => {
        // The variables as the call captured them when it started, which a resumed call keeps.
        const env = this.#supervisor?.context?.env;
        const unsetEnv = env ? unsetEnvOfRequest(compiled.flow, effect.id, env) : [];
        return performHttp(effect, signal, { logger: this.#log, unsetEnv });
      },
      deliver: (event) => this.#deliver(event),
      logger: this.#log,
      now: this.#now,
    });
    if (this.#deps.hearing) this.#listener = this.#listen(compiled.flow, this.#deps.hearing, this.#speech);
    this.#deps.metrics.callsActive.add(1);
    void this.#attach(compiled, customParameters, callSid, flowName, message.start.tracks);
  }

  /** Attach the stream to its call's journal: begin the conversation, or take it up where it was. */
  async #attach(
    compiled: CompiledFlow,
    params: Readonly<Record<string, string>>,
    callSid: string,
    flowName: string,
    tracks: readonly string[],
  ): Promise<void> {
    let attached;
    try {
      attached = await this.#deps.journals.attach(params, callSid);
    } catch (err) {
      this.#fail(err);
      return;
    }
    const { journal, records } = attached;
    if (this.#phase !== 'live') {
      await journal.release().catch(() => {});
      return;
    }
    const supervisor = new CallSupervisor({
      compiled,
      callId: callSid,
      journal,
      logger: this.#log,
      onEffect: (effect) => this.#effect(effect),
      onDone: () => this.#supervisorDone(),
      onRestart: () => this.#deps.metrics.actorRestarts.inc(),
      onGiveUp: (err) => this.#end('supervisor gave up', CloseCode.internal, { code: err.code }),
      onJournalFailed: (err) =>
        this.#end('journal failed', CloseCode.internal, {
          code: isSwitchboardError(err) ? err.code : 'INTERNAL',
        }),
      now: this.#now,
      ...(this.#deps.faults ? { faults: this.#deps.faults } : {}),
    });
    try {
      if (records.length === 0) {
        this.#log.info('call started', {
          flowVersion: compiled.flow.version,
          modelVersion: this.modelVersion,
          tracks,
        });
        supervisor.start(
          this.#startedAt,
          captureEnv(flowEnvNames(compiled.flow), this.#deps.env ?? process.env),
          {
            flow: flowName,
            flowVersion: compiled.flow.version,
            modelVersion: this.modelVersion,
            params: { flow: flowName },
          },
        );
      } else {
        const recovered = recover(compiled.machine, records);
        if (recovered.start.flowVersion !== compiled.flow.version || recovered.start.flow !== flowName) {
          throw new SwitchboardError('RESUME_REFUSED', 'the flow version the call runs is not loaded here', {
            flow: recovered.start.flow,
            flowVersion: recovered.start.flowVersion,
            loadedVersion: compiled.flow.version,
          });
        }
        this.#log.info('call resumed from its journal', {
          flowVersion: compiled.flow.version,
          modelVersion: this.modelVersion,
          journaledModelVersion: recovered.start.modelVersion,
          records: records.length,
          replayedEvents: recovered.replayed,
          timersRearmed: recovered.timers.length,
          state: recovered.snapshot.context.state,
          leaseToken: journal.token,
        });
        this.#deps.metrics.callsResumed.inc();
        supervisor.resume(recovered, this.#now());
      }
    } catch (err) {
      await journal.release().catch(() => {});
      this.#fail(err);
      return;
    }
    this.#supervisor = supervisor;
    const early = this.#early ?? [];
    this.#early = null;
    for (const event of early) supervisor.send(event);
    this.#publishStateAfterStep();
  }

  /** The conversation reached its end inside the machine (a hangup it asked for is carried out by the runner). */
  #supervisorDone(): void {
    this.#log.debug('conversation reached its end');
  }

  /** Resolves once every event delivered so far has been journaled and handled (for tests and drains). */
  async settled(): Promise<void> {
    while (this.#early !== null && this.#phase === 'live') await new Promise((r) => setTimeout(r, 1));
    await this.#supervisor?.settled();
  }

  /** Hand the caller over to `to`; Twilio then stops this stream, which ends the session as transferred. */
  async #transfer(callSid: string, to: string): Promise<void> {
    const control = this.#deps.callControl;
    if (!control) {
      throw new SwitchboardError(
        'CALL_CONTROL_INVALID',
        'transfers need TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to be set',
      );
    }
    this.#transferring = true;
    try {
      await control.transfer(callSid, to);
    } catch (err) {
      this.#transferring = false;
      throw err;
    }
  }

  #deliver(event: CallEvent): void {
    if (this.#phase !== 'live') return;
    if (this.#supervisor) {
      this.#supervisor.send(event);
      this.#publishStateAfterStep(event);
      return;
    }
    // Before the journal is read: kept for the conversation, in order, within a bound.
    if (this.#early !== null && this.#early.length < MAX_EARLY_EVENTS) this.#early.push(event);
    else this.#log.warn('event dropped while the call was attaching', { event: event.type });
  }

  #effect(effect: Effect): void {
    // The step that asked for the effect has moved the conversation on: its state goes before its prompt.
    this.#publishState();
    if (effect.type === 'say') {
      this.#log.debug('prompt requested', { mark: effect.mark, pii: { text: effect.text } });
      this.#publish({ type: 'prompt', at: this.#now(), mark: effect.mark, text: effect.text });
    }
    this.#runner?.run(effect);
  }

  /** Publish to the call's live view, if it has one. */
  #publish(event: CallViewEvent): void {
    if (this.#views && this.#callId !== null) this.#views.publish(this.#callId, event);
  }

  /** Publish the flow state and slots to the live view when they changed since last published. */
  #publishState(): void {
    if (!this.#views || this.#phase !== 'live') return;
    const ctx = this.#supervisor?.context;
    if (!ctx || ctx.state === BOOT_STATE) return;
    const last = this.#viewed;
    if (last && last.state === ctx.state && sameSlots(last.slots, ctx.slots)) return;
    const slots = { ...ctx.slots };
    this.#viewed = { state: ctx.state, slots };
    this.#publish({ type: 'state', at: this.#now(), state: ctx.state, slots });
  }

  /**
   * Once the supervisor has handled what it was given (steps without effects change slots too), publish; with
   * the keypad entry `event` finished, if it did. Runs before the supervisor takes the next event.
   */
  #publishStateAfterStep(event: CallEvent | null = null): void {
    const supervisor = this.#supervisor;
    if (!this.#views || !supervisor) return;
    if (event?.type === 'dtmf') this.#publish(this.#keypad.pressed(event.digit, this.#now()));
    void supervisor.settled().then(
      () => {
        this.#publishState();
        const turn = this.#keypad.handled(event, supervisor.context, this.#now());
        if (turn) this.#publish(turn);
      },
      () => {},
    );
  }

  #play(frames: readonly string[], mark: string | null, text?: string): void {
    if (this.#phase !== 'live' || !this.#pacer) return;
    try {
      const start = this.#pacer.sentFrames + this.#pacer.queuedMs / FRAME_MS;
      this.#pacer.enqueue(frames, mark);
      if (text !== undefined) this.#playedText.queued(text, start, frames.length, mark);
      // Start playing now rather than at the next clock tick: up to 20 ms less silence before the agent speaks.
      this.#pacer.pump(performance.now());
    } catch (err) {
      this.#fail(err);
    }
  }

  #sendMedia(payload: string): void {
    if (this.#phase !== 'live') return;
    if (this.#socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.#end('peer is not reading', CloseCode.policy, { bufferedAmount: this.#socket.bufferedAmount });
      return;
    }
    this.#socket.send(this.#encoder!.media(payload));
    this.#unmarkedAudio = true;
    this.#framesOut += 1;
    this.#deps.metrics.mediaOut.inc();
    if (this.#turnTiming) this.#logTurnLatency(this.#turnTiming);
    if (!this.#firstMediaSent) {
      this.#firstMediaSent = true;
      const ms = this.#now() - this.#startedAt;
      this.#deps.metrics.firstMediaMs.observe(ms);
      this.#log.info('first agent audio sent', { msSinceStart: ms });
    }
  }

  #listen(flow: FlowFile, hearing: Hearing, speech: SpeechFailover): CallListener {
    const understanding = new Understanding(flow, { model: this.#model?.model ?? null, logger: this.#log });
    this.#inbound = Buffer.alloc(Math.ceil((MAX_MESSAGE_BYTES * 3) / 4));
    return new CallListener({
      stt: speech.stt,
      openVad: hearing.openVad,
      logger: this.#log,
      context: () => {
        const waiting = this.#waitingState();
        if (!waiting || !speech.listening) return null;
        // Speech over a prompt that may not be interrupted is not taken as an answer.
        if (!speechInterrupts(waiting.def) && this.#agentSpeaking()) return null;
        this.#listener?.setSilenceMs(waiting.def.endOfTurnMs ?? DEFAULT_END_OF_TURN_MS);
        return listenContext(flow, waiting.state, waiting.confirming, waiting.checking);
      },
      onSpeechStart: () => this.#speechStarted(),
      onTurn: (turn) => void this.#heard(understanding, turn),
      onInterim: (text) => this.#publish({ type: 'hearing', at: this.#now(), text }),
    });
  }

  #hear(payload: string, timestamp: number): void {
    const listener = this.#listener;
    const buffer = this.#inbound;
    if (!listener || !buffer) return;
    const length = decodePayloadInto(payload, buffer);
    // Lost packets leave a gap in the timestamps. The listener counts time in frames (VAD, end-of-turn
    // silence), so the gap is filled with silence to keep its clock with the call's; jitter under a frame is not.
    const missing = this.#nextTimestamp < 0 ? 0 : timestamp - this.#nextTimestamp;
    if (missing >= FRAME_MS) {
      const fill = Math.min(Math.round(missing / FRAME_MS), MAX_GAP_FILL_FRAMES);
      for (let i = 0; i < fill; i++) listener.pushMulaw(SILENCE_FRAME);
      this.#gapFrames += fill;
    }
    this.#nextTimestamp = timestamp + length / SAMPLES_PER_MS;
    for (let at = 0; at < length; at += FRAME_SAMPLES)
      listener.pushMulaw(buffer.subarray(at, Math.min(at + FRAME_SAMPLES, length)));
  }

  #currentState(): StateDef | undefined {
    const state = this.#supervisor?.context?.state;
    return state === undefined ? undefined : this.#flow?.states[state];
  }

  /** The current state when it waits for the caller (an answer, or yes or no to a read-back); else null. */
  #waitingState(): { state: string; def: StateDef; confirming: boolean; checking: boolean } | null {
    const def = this.#currentState();
    const ctx = this.#supervisor?.context;
    if (!def || !ctx || !(waitsForInput(def) || ctx.confirming)) return null;
    return { state: ctx.state, def, confirming: ctx.confirming, checking: ctx.checking !== undefined };
  }

  /** Audio sent that Twilio may still be playing: queued, unmarked, or before a mark not yet echoed. */
  #agentSpeaking(): boolean {
    return !(this.#pacer?.idle ?? true) || this.#unmarkedAudio || this.#inFlight.size > 0;
  }

  /** The caller started talking: over a prompt that allows it, the prompt stops now, not when the words are known. */
  #speechStarted(): void {
    const speaking = this.#agentSpeaking();
    this.#log.debug('caller speech started', { agentSpeaking: speaking });
    const waiting = this.#waitingState();
    if (!speaking || !waiting || !speechInterrupts(waiting.def)) return;
    const interrupted = [...this.#inFlight];
    this.#clear();
    this.#deps.metrics.bargeIns.inc();
    this.#log.info('barge-in: the caller spoke over the prompt', {
      state: waiting.state,
      marksInterrupted: interrupted,
    });
  }

  async #heard(understanding: Understanding, turn: HeardTurn): Promise<void> {
    const ctx = this.#supervisor?.context;
    if (this.#phase !== 'live' || !ctx) return;
    if (turn.error === undefined) this.#speech?.recognized();
    // A switch of engines asks the question again: the failed turn is not a no-match as well.
    else if (this.#speech?.recognitionFailed(turn.error)) return;
    const at = this.#now();
    const utterance = await understanding.interpret(turn.text, ctx.state, at, localDate(at));
    if (this.#phase !== 'live') return;
    this.#log.info('caller heard', {
      intent: utterance.intent,
      confidence: Math.round(utterance.confidence * 1000) / 1000,
      sttConfidence: turn.confidence,
      pii: { text: turn.text, entities: utterance.entities },
    });
    this.#publish({
      type: 'turn',
      at: this.#now(),
      via: 'speech',
      text: turn.text,
      intent: utterance.intent,
      confidence: Math.round(utterance.confidence * 1000) / 1000,
    });
    this.#turnTiming = {
      endDecidedAt: turn.endDecidedAt,
      transcribedAt: turn.transcribedAt,
      decidedAt: performance.now(),
      silenceMs: this.#currentState()?.endOfTurnMs ?? DEFAULT_END_OF_TURN_MS,
    };
    this.#deliver(utterance);
  }

  /** Caller stops speaking -> end of turn decided -> transcript -> decision -> first agent audio, in ms. */
  #logTurnLatency(t: TurnTiming): void {
    this.#turnTiming = null;
    const sent = performance.now();
    this.#deps.metrics.turnLatencyMs.observe(sent - t.endDecidedAt);
    const round = (ms: number): number => Math.round(ms * 10) / 10;
    const transcriptMs = round(t.transcribedAt - t.endDecidedAt);
    const decisionMs = round(t.decidedAt - t.transcribedAt);
    const firstAudioMs = round(sent - t.decidedAt);
    const endOfTurnMs = round(sent - t.endDecidedAt);
    this.#log.info('turn latency', {
      silenceWindowMs: t.silenceMs,
      transcriptMs,
      decisionMs,
      firstAudioMs,
      endOfTurnToAudioMs: endOfTurnMs,
      speechEndToAudioMs: round(sent - t.endDecidedAt + t.silenceMs),
    });
    this.#publish({
      type: 'latency',
      at: this.#now(),
      transcriptMs,
      decisionMs,
      firstAudioMs,
      endOfTurnMs,
      silenceMs: t.silenceMs,
    });
  }

  #sendMark(name: string): void {
    if (this.#phase !== 'live') return;
    this.#socket.send(this.#encoder!.mark(name));
    this.#unmarkedAudio = false;
    this.#inFlight.add(name);
  }

  #markEchoed(name: string): void {
    if (this.#inFlight.delete(name)) {
      this.#playedText.played(name);
      this.#log.debug('prompt heard', { mark: name });
      this.#deliver({ type: 'played', at: this.#now(), mark: name });
    } else if (this.#cleared.delete(name)) {
      this.#log.debug('prompt interrupted', { mark: name });
    } else {
      this.#log.warn('mark echo for a mark never sent', { mark: name });
    }
    this.#checkIdle();
  }

  #clear(): void {
    if (!this.#pacer || !this.#encoder) return;
    const heard = this.#playedText.cut(this.#pacer.playedFrames(performance.now()));
    const queued = !this.#pacer.idle;
    const dropped = this.#pacer.clear();
    // The prompt cut: the first whose mark had not come back (sent or still queued).
    const cutMark = this.#inFlight.values().next().value ?? dropped[0] ?? null;
    if (queued || this.#unmarkedAudio || this.#inFlight.size > 0) {
      this.#unmarkedAudio = false;
      this.#socket.send(this.#encoder.clear());
      for (const mark of this.#inFlight) this.#cleared.add(mark);
      this.#inFlight.clear();
      this.#log.debug('audio cleared', {
        marksInterrupted: this.#cleared.size,
        marksDropped: dropped.length,
      });
      // Prompts can hold the caller's data (a number read back), so the words go in the redactable field.
      if (heard) {
        this.#log.info('prompt cut short', {
          playedMs: heard.playedMs,
          promptMs: heard.promptMs,
          pii: { heard: heard.text },
        });
        this.#publish({
          type: 'cut',
          at: this.#now(),
          mark: cutMark,
          heard: heard.text,
          playedMs: heard.playedMs,
          promptMs: heard.promptMs,
        });
      }
    }
    this.#checkIdle();
  }

  #idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #isIdle(): boolean {
    return this.#phase !== 'live' || ((this.#pacer?.idle ?? true) && this.#inFlight.size === 0);
  }

  #checkIdle(): void {
    if (this.#idleWaiters.length === 0 || !this.#isIdle()) return;
    this.#releaseModel?.();
    this.#listener?.close();
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #fail(err: unknown): void {
    const code = isSwitchboardError(err) ? err.code : 'INTERNAL';
    this.#deps.metrics.protocolErrors.inc({ code });
    const data = isSwitchboardError(err) ? err.data : {};
    this.#log.error('media stream rejected', { code, err, ...withoutPii(data) });
    // The call's journal could not be read or written: not the stream's fault, and the call stays resumable.
    if (code.startsWith('JOURNAL_') || code.startsWith('STORE_')) {
      this.#end('journal failed', CloseCode.internal, { code });
      return;
    }
    const policy = code === 'FLOW_NOT_FOUND' || code === 'RESUME_REFUSED';
    this.#end('bad input', policy ? CloseCode.policy : CloseCode.protocolError, { code });
  }

  #end(reason: string, closeCode: number | null, fields: Record<string, unknown> = {}): void {
    if (this.#phase === 'ended') return;
    const wasLive = this.#phase === 'live';
    this.#phase = 'ended';
    if (this.#pacer) {
      this.#deps.pacerClock.remove(this.#pacer);
      this.#pacer.clear();
    }
    this.#runner?.stop();
    // The conversation ends with the stream unless the stream went away under it: then it stays open in the
    // journal, to be resumed on a new stream. The stream is closed once the journal says which.
    const supervisor = this.#supervisor;
    const journaled = !supervisor
      ? Promise.resolve()
      : RESUMABLE.has(reason)
        ? supervisor.detach()
        : supervisor.finish(reason, this.#now());
    this.#releaseModel?.();
    this.#listener?.close();
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
    if (closeCode !== null) {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, END_JOURNAL_WAIT_MS)));
      this.#closed = Promise.race([journaled, waited]).then(() => {
        clearTimeout(timer);
        this.#socket.close(closeCode, reason);
      });
    }
    if (wasLive) {
      this.#deps.metrics.callsActive.add(-1);
      this.#deps.metrics.callsTotal.inc({ outcome: reason.replaceAll(' ', '_') });
    }
    this.#log.info('call ended', {
      reason,
      ...fields,
      durationMs: wasLive ? this.#now() - this.#startedAt : 0,
      framesIn: this.#framesIn,
      framesOut: this.#framesOut,
      outOfOrderFrames: this.#outOfOrder,
      gapFilledFrames: this.#gapFrames,
      state: this.flowState,
    });
    this.#publish({ type: 'ended', at: this.#now(), reason });
    for (const listener of this.#endedListeners) listener(reason);
  }
}

function sameSlots(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => a[k] === b[k]);
}

function outOfOrder(event: string, detail: string): SwitchboardError {
  return new SwitchboardError('MEDIA_OUT_OF_ORDER', detail, { event });
}

/** Protocol error data can echo caller ids; keep only the field names that are safe to log as text. */
function withoutPii(data: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { event, field, flow } = data;
  return { event, field, flow };
}
