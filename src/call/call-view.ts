/**
 * A call's live view: what the softphone page shows beside the phone as the call goes (flow state and slots, the
 * caller's words as they are recognized and the keys as they are pressed, the prompts and what of them was
 * heard, each turn's latency). Sessions publish; the page subscribes over Server-Sent Events.
 *
 * Only calls opened for viewing (the softphone opens the calls it places) are kept: publishing for any other
 * call is one map lookup and stores nothing, so a phone call's words never reach a view. Each opened call keeps
 * its last events, so a page that subscribes a little late still gets what it missed, and is forgotten a while
 * after it ends. Events carry personal data (transcripts, keys, slots, prompts): they go to the view, never to
 * logs.
 */
import { systemClock, type Clock, type Timer } from '../clock.ts';

/** The flow state the conversation is in, and its slots (published when either changes). */
export interface StateView {
  type: 'state';
  state: string;
  slots: Record<string, string>;
}
/** What the recognizer hears so far in the caller's current turn (an interim transcript). */
export interface HearingView {
  type: 'hearing';
  text: string;
}
/** A caller's spoken turn: its final transcript and what it was understood as. */
export interface TurnView {
  type: 'turn';
  via: 'speech';
  text: string;
  /** Null when nothing matched. */
  intent: string | null;
  confidence: number;
}
/** The keys pressed so far in the caller's current keypad entry (shown as they are pressed, like 'hearing'). */
export interface KeysView {
  type: 'keys';
  keys: string;
}
/**
 * A caller's keypad turn: the keys of one entry (a menu key, or digits with their terminator) and where they led:
 * the flow state after them and the slots they set.
 */
export interface KeypadTurnView {
  type: 'turn';
  via: 'keypad';
  /** The keys, in the order pressed. */
  text: string;
  state: string;
  /** Slots the entry set or changed (empty when none). */
  slots: Record<string, string>;
  /** The flow asked again: the entry did not match, or was not valid. */
  retry: boolean;
}
/** A prompt the agent was asked to say, under its mark. */
export interface PromptView {
  type: 'prompt';
  mark: string;
  text: string;
}
/** The caller cut a prompt short: the words heard and how much of it played. */
export interface CutView {
  type: 'cut';
  /** The interrupted prompt's mark, when known. */
  mark: string | null;
  heard: string;
  playedMs: number;
  promptMs: number;
}
/** A turn's latency, ms: end of turn decided -> transcript -> decision -> first agent audio, and the silence window. */
export interface LatencyView {
  type: 'latency';
  transcriptMs: number;
  decisionMs: number;
  firstAudioMs: number;
  /** End of turn decided to first agent audio (the three steps together). */
  endOfTurnMs: number;
  /** The trailing silence that ended the turn, before the end was decided. */
  silenceMs: number;
}
/** The call ended (the last event of a view). */
export interface EndedView {
  type: 'ended';
  reason: string;
}

/** One event of a call's live view, stamped with when it happened (ms since the epoch). */
export type CallViewEvent = (
  | StateView
  | HearingView
  | TurnView
  | KeysView
  | KeypadTurnView
  | PromptView
  | CutView
  | LatencyView
  | EndedView
) & {
  at: number;
};

export type CallViewListener = (event: CallViewEvent) => void;

export interface CallViewsOptions {
  /** Events kept per call for late subscribers (default 200). */
  maxEvents?: number;
  /** How long an ended call's view is kept (default 60 s). */
  forgetAfterMs?: number;
  /** Calls kept open at once; past it the oldest is forgotten (default 1000). */
  maxCalls?: number;
  /** Times the forgetting of ended calls (the system clock unless given). */
  clock?: Clock;
}

interface View {
  /** A ring of the last events: `events[(start + i) % max]`. */
  readonly events: CallViewEvent[];
  start: number;
  readonly listeners: Set<CallViewListener>;
  forget: Timer | null;
}

/** The live views of the calls opened for viewing. */
export class CallViews {
  readonly #maxEvents: number;
  readonly #forgetAfterMs: number;
  readonly #maxCalls: number;
  readonly #clock: Clock;
  /** Insertion order is opening order, so the first entry is the oldest. */
  readonly #views = new Map<string, View>();

  constructor(options: CallViewsOptions = {}) {
    this.#maxEvents = Math.max(1, options.maxEvents ?? 200);
    this.#forgetAfterMs = options.forgetAfterMs ?? 60_000;
    this.#maxCalls = Math.max(1, options.maxCalls ?? 1000);
    this.#clock = options.clock ?? systemClock;
  }

  /** Keep a view of `callId` from now on (idempotent). */
  open(callId: string): void {
    if (this.#views.has(callId)) return;
    if (this.#views.size >= this.#maxCalls) {
      const oldest = this.#views.keys().next();
      if (!oldest.done) this.forget(oldest.value);
    }
    this.#views.set(callId, { events: [], start: 0, listeners: new Set(), forget: null });
  }

  /**
   * Open `callId`'s view wherever this server may stream it, resolving once it is open there: in one process,
   * here (a server of several processes opens it in each, server/cluster/shared-views.ts).
   */
  async share(callId: string): Promise<void> {
    this.open(callId);
  }

  /** Whether `callId` is viewed: publishing for it is worth building events. */
  has(callId: string): boolean {
    return this.#views.has(callId);
  }

  /** Publish an event of `callId`'s view; a no-op for a call not opened. Never throws. */
  publish(callId: string, event: CallViewEvent): void {
    const view = this.#views.get(callId);
    if (!view) return;
    if (view.events.length < this.#maxEvents) view.events.push(event);
    else {
      view.events[view.start] = event;
      view.start = (view.start + 1) % this.#maxEvents;
    }
    for (const listener of view.listeners) deliver(listener, event);
    if (event.type === 'ended' && view.forget === null)
      view.forget = this.#clock.after(this.#forgetAfterMs, () => this.forget(callId));
  }

  /**
   * Listen to `callId`'s view: the events kept so far are replayed to `listener` at once, in order, then new
   * ones follow. Returns the way to stop listening, or null when the call is not viewed (never opened, or
   * forgotten).
   */
  subscribe(callId: string, listener: CallViewListener): (() => void) | null {
    const view = this.#views.get(callId);
    if (!view) return null;
    for (const event of history(view)) deliver(listener, event);
    view.listeners.add(listener);
    return () => {
      view.listeners.delete(listener);
    };
  }

  /** The events kept for `callId`, oldest first (empty when it is not viewed). */
  history(callId: string): CallViewEvent[] {
    const view = this.#views.get(callId);
    return view ? history(view) : [];
  }

  /** Drop `callId`'s view and its listeners. */
  forget(callId: string): void {
    const view = this.#views.get(callId);
    if (!view) return;
    view.forget?.cancel();
    view.listeners.clear();
    this.#views.delete(callId);
  }

  /** Forget every view (the server is closing). */
  close(): void {
    for (const callId of [...this.#views.keys()]) this.forget(callId);
  }
}

function history(view: View): CallViewEvent[] {
  return [...view.events.slice(view.start), ...view.events.slice(0, view.start)];
}

/** A listener that fails is its own problem: it must not reach the session that published. */
function deliver(listener: CallViewListener, event: CallViewEvent): void {
  try {
    listener(event);
  } catch {
    // Ignored on purpose; see above.
  }
}
