/**
 * One media stream: the bridge between a Twilio Media Streams websocket and one call's supervised actor. A thin
 * coordinator of parts with one job each (in media/): the protocol's order (stream-protocol.ts), the
 * conversation and its journal (conversation.ts), the agent's audio and marks (outbound-audio.ts), hearing the
 * caller (hearing.ts). They report what happens as one typed event stream (session-events.ts), turned into log
 * lines, metrics and the live view by its subscribers. Bad input ends the call cleanly, touching no other call.
 */
import { systemClock, type Clock } from '../clock.ts';
import { SwitchboardError, isErrorFamily, isSwitchboardError } from '../errors.ts';
import { endOfTurnMs, interrupts, type CallEvent, type CompiledFlow } from '../flow/index.ts';
import type { SharedIntentModel } from '../nlu/shared-model.ts';
import type { Logger } from '../observability/logger.ts';
import { parseInbound, type StartMessage } from '../telephony/media-streams.ts';
import { EffectRunner, type CallAudio } from './effects.ts';
import { isEndReason, type EndReason } from './end-reasons.ts';
import { callRequest } from './http-action.ts';
import { listenContext } from './listen-context.ts';
import { SpeechFailover } from './speech-failover.ts';
import { Conversation } from './media/conversation.ts';
import { CallHearing } from './media/hearing.ts';
import { QuietWatch } from './media/quiet-watch.ts';
import { logSubscriber } from './media/log-subscriber.ts';
import { metricsSubscriber } from './media/metrics-subscriber.ts';
import { LiveControl, ownNumberOf } from './media/live-control.ts';
import { OutboundAudio, type StreamSocket } from './media/outbound-audio.ts';
import { CloseCode, type Hearing, type SessionDeps } from './media/session-deps.ts';
import { FRAME_IN, SessionEvents } from './media/session-events.ts';
import { StreamProtocol, type SessionPhase } from './media/stream-protocol.ts';
import { viewSubscriber } from './media/view-subscriber.ts';

export { CloseCode, type Hearing, type SessionDeps } from './media/session-deps.ts';
export type { StreamSocket } from './media/outbound-audio.ts';
export type { SessionPhase } from './media/stream-protocol.ts';

const NO_FRAMES: readonly string[] = Object.freeze([]);
/** How long the end of a call waits for its journal before the stream is closed anyway. */
const END_JOURNAL_WAIT_MS = 2000;
/** Silence that ends a caller's turn in a state that does not set `endOfTurnMs`. */
const DEFAULT_END_OF_TURN_MS = 700;

export class MediaSession {
  readonly #socket: StreamSocket;
  readonly #deps: SessionDeps;
  readonly #clock: Clock;
  readonly #now: () => number;
  readonly #events: SessionEvents;
  readonly #protocol: StreamProtocol;
  #log: Logger;
  #callId: string | null = null;
  #startedAt = 0;
  #conversation: Conversation | null = null;
  #outbound: OutboundAudio | null = null;
  #hearing: CallHearing | null = null;
  #runner: EffectRunner | null = null;
  /** The intent model the call started with, kept for the whole call even if its flow's model is replaced. */
  #model: SharedIntentModel | null = null;
  #releaseModel: (() => void) | null = null;
  /** Twilio's REST API on the call's behalf (transfers, recordings); set once the stream started. */
  #control: LiveControl | null = null;
  /** The caller spoke over agent audio and the flow has not yet handled it: a clear it asks for is a barge-in. */
  #speechOver: { state: string | null } | null = null;
  /** Resolves once the session has ended and closed its socket (after its journal, when it had one). */
  #closed: Promise<void> = Promise.resolve();
  #endedListeners: ((reason: string) => void)[] = [];
  readonly #quiet: QuietWatch | null;
  #liveListeners: ((callId: string) => void)[] = [];

  constructor(socket: StreamSocket, deps: SessionDeps) {
    this.#socket = socket;
    this.#deps = deps;
    const clock = deps.clock ?? systemClock;
    this.#clock = clock;
    this.#now = deps.now ?? (() => clock.now());
    this.#quiet = !deps.quietLimits
      ? null
      : new QuietWatch(clock, deps.quietLimits, () => this.phase, {
          noStart: (waitedMs) => this.#fail(new SwitchboardError('MEDIA_NO_START', undefined, { waitedMs })),
          idle: (quietMs) =>
            this.#end('stream dropped', CloseCode.goingAway, { code: 'MEDIA_IDLE', quietMs }),
        });
    this.#log = deps.logger;
    this.#events = new SessionEvents(this.#now);
    this.#events.subscribe(logSubscriber(() => this.#log, deps.unattachedLogGate));
    this.#events.subscribe(metricsSubscriber(deps.metrics));
    for (const subscriber of deps.subscribers ?? []) this.#events.subscribe(subscriber);
    this.#protocol = new StreamProtocol(() => clock.monotonic(), {
      start: (message) => this.#start(message),
      // A redirect to <Dial> stops the stream just as a hang-up does.
      stop: () => this.#end(this.#control?.stopReason ?? 'caller hung up', CloseCode.normal),
      media: (payload, timestamp) => this.#hearing?.hear(payload, timestamp),
      dtmf: (digit) => {
        this.#events.emit({ type: 'key.pressed', digit });
        // Delivered even during a prompt that may not be interrupted: the flow's routing decides.
        this.#deliver({ type: 'dtmf', at: this.#now(), digit });
      },
      keyDropped: (dropped) => this.#events.emit({ type: 'key.dropped', dropped }),
      mark: (name) => this.#outbound?.markEchoed(name),
      frameIn: () => this.#events.emit(FRAME_IN),
    });
  }

  get phase(): SessionPhase {
    return this.#protocol.phase;
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
    return this.#conversation?.context?.state ?? null;
  }

  /** Resolves once the session has ended and its socket has been closed. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /** Told when the stream has started and the call is live, with its id. */
  onLive(listener: (callId: string) => void): void {
    this.#liveListeners.push(listener);
  }

  onEnded(listener: (reason: string) => void): void {
    this.#endedListeners.push(listener);
  }

  /** Handle one websocket message. Never throws: bad input ends this call with a log line. */
  handleMessage(raw: string | Buffer): void {
    if (this.phase === 'ended') return;
    this.#quiet?.heard();
    try {
      this.#protocol.dispatch(parseInbound(raw));
    } catch (err) {
      this.#fail(err);
    }
  }

  /** The socket closed under us (caller hung up, Twilio went away, or the network dropped). */
  handleClose(code: number): void {
    if (this.phase === 'ended') return;
    this.#end(code === CloseCode.normal ? 'stream closed' : 'stream dropped', null, { closeCode: code });
  }

  /** End this call for an error raised outside message handling (e.g. by the socket). */
  reject(err: unknown): void {
    if (this.phase !== 'ended') this.#fail(err);
  }

  /** End the call because the server is draining: Twilio then asks the `<Connect action>` where to go next. */
  handBack(): Promise<void> {
    this.#end('handed back', CloseCode.goingAway);
    return this.#closed;
  }

  /** Resolves once every event delivered so far has been journaled and handled (for tests and drains). */
  async settled(): Promise<void> {
    await this.#conversation?.settled();
  }

  #start(message: StartMessage): void {
    const { streamSid, callSid, customParameters } = message.start;
    const deps = this.#deps;
    const flowName = customParameters.flow ?? deps.defaultFlow;
    this.#callId = callSid;
    this.#startedAt = this.#now();
    this.#log = deps.logger.child({ callId: callSid, streamSid });
    if (deps.views?.has(callSid)) this.#events.subscribe(viewSubscriber(deps.views, callSid));
    const compiled = deps.flows.get(flowName);
    if (!compiled) throw new SwitchboardError('FLOW_NOT_FOUND', `"${flowName}"`, { flow: flowName });
    this.#protocol.live(streamSid);
    this.#log = this.#log.child({ flow: compiled.flow.id });
    if (deps.tracing) this.#events.subscribe(deps.tracing.subscriber(callSid, compiled.flow.id));
    // Taken in the same turn as the flow, so the two always belong together.
    this.#model = deps.models?.get(flowName) ?? null;
    this.#releaseModel = this.#model?.retain() ?? null;
    const live = (): boolean => this.phase === 'live';
    const conversation = new Conversation({
      compiled,
      flowName,
      callId: callSid,
      params: customParameters,
      ...(deps.urlTicket === undefined ? {} : { urlTicket: deps.urlTicket }),
      tracks: message.start.tracks,
      modelVersion: this.modelVersion,
      startedAt: this.#startedAt,
      journals: deps.journals,
      ...(deps.faults ? { faults: deps.faults } : {}),
      env: deps.env ?? process.env,
      events: this.#events,
      logger: this.#log,
      now: this.#now,
      live,
      onEffect: (effect) => this.#runner?.run(effect),
      // A full journal is a limit the call reached, not a failure: the stream closes as at a hang-up.
      end: (reason, fields) =>
        this.#end(reason, reason === 'journal full' ? CloseCode.normal : CloseCode.internal, fields),
      fail: (err) => this.#fail(err),
    });
    this.#conversation = conversation;
    const outbound = new OutboundAudio({
      socket: this.#socket,
      streamSid,
      pacerClock: deps.pacerClock,
      clock: this.#clock,
      events: this.#events,
      live,
      sinceStart: () => this.#now() - this.#startedAt,
      heard: (mark) => this.#deliver({ type: 'played', at: this.#now(), mark }),
      stuck: (bufferedAmount) => this.#end('peer is not reading', CloseCode.policy, { bufferedAmount }),
      fail: (err) => this.#fail(err),
    });
    this.#outbound = outbound;
    const speech = new SpeechFailover({
      rule: compiled.policy.speechFailover,
      stt: deps.hearing?.stt ?? null,
      prompts: deps.prompts,
      fallback: deps.fallback ?? null,
      modes: () => conversation.context?.speech ?? {},
      request: (service, to) => {
        this.#events.emit({ type: 'speech.failover', service, to });
        this.#deliver({ type: 'speech.failover', at: this.#now(), service, to });
      },
      logger: this.#log,
    });
    const control = new LiveControl({
      control: deps.callControl ?? null,
      callSid,
      recordingCallbackUrl: deps.recordingCallbackUrl ?? null,
      warm: deps.warmTransfers ?? null,
      flow: flowName,
      ownNumber: () => ownNumberOf(conversation.context?.call),
    });
    this.#control = control;
    const audio: CallAudio = {
      play: (prompt, mark, text) => outbound.play(prompt.frames, mark, text),
      mark: (name) => outbound.play(NO_FRAMES, name),
      clear: () => this.#clear(),
      idle: () => outbound.idle(),
      hangup: (reason) => this.#end(isEndReason(reason) ? reason : 'flow ended the call', CloseCode.normal),
      transfer: (to, warm) => (warm === undefined ? control.transfer(to) : control.warmTransfer(to, warm)),
      record: (action) => control.record(action),
    };
    this.#runner = new EffectRunner({
      prompts: speech.prompts,
      ...(compiled.flow.language ? { language: compiled.flow.language } : {}),
      audio,
      http: (effect, signal) =>
        callRequest(effect, signal, {
          flow: compiled.flow,
          env: conversation.context?.env,
          allow: this.#deps.httpAllowHosts,
          logger: this.#log,
        }),
      deliver: (event) => this.#deliver(event),
      logger: this.#log,
      clock: this.#clock,
      now: this.#now,
    });
    if (deps.hearing) this.#hearing = this.#listen(compiled, deps.hearing, speech);
    this.#events.emit({ type: 'call.live' });
    for (const listener of this.#liveListeners) listener(callSid);
    void conversation.attach();
  }

  #listen(compiled: CompiledFlow, hearing: Hearing, speech: SpeechFailover): CallHearing {
    const conversation = this.#conversation!;
    return new CallHearing({
      flow: compiled.flow,
      model: this.#model?.model ?? null,
      shadow: this.#model?.shadow ?? null,
      openVad: hearing.openVad,
      speech,
      events: this.#events,
      logger: this.#log,
      clock: this.#clock,
      now: this.#now,
      listening: () => {
        const waiting = conversation.waitingState;
        if (!waiting || !speech.listening) return null;
        // Speech over a prompt that may not be interrupted is not taken as an answer.
        if (!interrupts(waiting.def, 'speech') && this.#outbound?.speaking) return null;
        const { state, confirming, checking } = waiting;
        return {
          context: listenContext(compiled.flow, state, confirming, checking),
          silenceMs: endOfTurnMs(waiting.def) ?? DEFAULT_END_OF_TURN_MS,
        };
      },
      state: () => (this.phase === 'live' ? (conversation.context?.state ?? null) : null),
      silenceMs: () => {
        const def = conversation.currentState;
        return (def && endOfTurnMs(def)) ?? DEFAULT_END_OF_TURN_MS;
      },
      onSpeechStart: () => this.#speechStarted(),
      onUtterance: (utterance, timing) => {
        this.#outbound?.replyTo(timing);
        this.#deliver(utterance);
      },
    });
  }

  /**
   * The caller started talking. Over agent audio the flow is told (`speech.start`): the state's `bargeIn`
   * decides whether the prompt stops now, not when the words are known.
   */
  #speechStarted(): void {
    const speaking = this.#outbound?.speaking ?? false;
    this.#events.emit({ type: 'speech.started', agentSpeaking: speaking });
    if (!speaking || this.phase !== 'live') return;
    const over = { state: this.flowState };
    this.#speechOver = over;
    this.#deliver({ type: 'speech.start', at: this.#now() });
    void this.#conversation?.handled().then(() => {
      if (this.#speechOver === over) this.#speechOver = null;
    });
  }

  /** Carry out the flow's `clear`: after the caller's speech started over the prompt, that is a barge-in. */
  #clear(): void {
    const cut = this.#outbound?.clear() ?? null;
    const over = this.#speechOver;
    if (!cut || !over) return;
    this.#speechOver = null;
    this.#events.emit({ type: 'barge-in', state: over.state, marksInterrupted: cut.marksInterrupted });
  }

  #deliver(event: CallEvent): void {
    if (this.phase === 'live') this.#conversation?.deliver(event);
  }

  #fail(err: unknown): void {
    const code = isSwitchboardError(err) ? err.code : 'INTERNAL';
    const data = isSwitchboardError(err) ? { ...err.data } : {};
    this.#events.emit({ type: 'stream.rejected', code, err, data });
    // The call's journal could not be read or written: not the stream's fault, and the call stays resumable.
    if (isErrorFamily(err, 'JOURNAL', 'STORE')) {
      this.#end('journal failed', CloseCode.internal, { code });
      return;
    }
    const policy = code === 'FLOW_NOT_FOUND' || code === 'RESUME_REFUSED';
    this.#end('bad input', policy ? CloseCode.policy : CloseCode.protocolError, { code });
  }

  /** Teardown: the call leaves its flow (or stays resumable in its journal) and the stream is closed. */
  #end(reason: EndReason, closeCode: number | null, fields: Record<string, unknown> = {}): void {
    if (this.phase === 'ended') return;
    this.#quiet?.stop();
    const wasLive = this.#protocol.end();
    this.#runner?.stop();
    this.#outbound?.stop();
    // The conversation ends with the stream unless the stream went away under it: then it stays open in the
    // journal, to be resumed on a new stream. The stream is closed once the journal says which.
    const journaled = this.#conversation?.leave(reason, this.#now()) ?? Promise.resolve();
    this.#releaseModel?.();
    this.#releaseModel = null;
    this.#hearing?.close();
    if (closeCode !== null) {
      let timer: { cancel(): void } | undefined;
      const waited = new Promise<void>(
        (resolve) => (timer = this.#clock.after(END_JOURNAL_WAIT_MS, resolve)),
      );
      this.#closed = Promise.race([journaled, waited]).then(() => {
        timer?.cancel();
        this.#socket.close(closeCode, reason);
      });
    }
    this.#events.emit({
      type: 'call.ended',
      reason,
      wasLive,
      fields,
      durationMs: wasLive ? this.#now() - this.#startedAt : 0,
      framesIn: this.#protocol.framesIn,
      framesOut: this.#outbound?.framesOut ?? 0,
      outOfOrderFrames: this.#protocol.outOfOrder,
      gapFilledFrames: this.#hearing?.gapFrames ?? 0,
      keysDropped: this.#protocol.keysDropped,
      state: this.flowState,
    });
    for (const listener of this.#endedListeners) listener(reason);
  }
}
