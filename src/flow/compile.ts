/**
 * Compiles a validated flow into an xstate machine. Each flow state becomes a machine state; the bookkeeping
 * (prompts, marks, timers, retries, digit buffers) is done by small pure functions so the machine stays
 * deterministic: the same events always give the same states and effects.
 */
import { and, enqueueActions, setup } from 'xstate';
import type { AnyStateMachine } from 'xstate';
import type { CallContext, CallEvent, Effect } from './events.ts';
import { renderTemplate } from './template.ts';
import {
  DEFAULT_POLICY,
  type DigitsDef,
  type FlowFile,
  type ResolvedPolicy,
  type StateDef,
} from './types.ts';

/** Internal states; flow state names cannot start with `$`. */
export const BOOT_STATE = '$boot';
export const ENDED_STATE = '$ended';
export const GIVE_UP_STATE = '$giveUp';
const GIVE_UP_SAY = 'Sorry, we could not continue. Goodbye.';

export interface CompiledFlow {
  flow: FlowFile;
  policy: ResolvedPolicy;
  machine: CallMachine;
}

/** Fill a flow's policy defaults. */
export function resolvePolicy(flow: FlowFile): ResolvedPolicy {
  const p = flow.policy ?? {};
  return {
    noInputMs: p.noInputMs ?? DEFAULT_POLICY.noInputMs,
    maxRetries: p.maxRetries ?? DEFAULT_POLICY.maxRetries,
    fallback: p.fallback ?? DEFAULT_POLICY.fallback,
    noInputSay: p.noInputSay ?? DEFAULT_POLICY.noInputSay,
    noMatchSay: p.noMatchSay ?? DEFAULT_POLICY.noMatchSay,
    supervisor: { ...DEFAULT_POLICY.supervisor, ...p.supervisor },
  };
}

type StepParams =
  | { kind: 'enter'; state: string }
  | { kind: 'exit' }
  | { kind: 'listen' }
  | { kind: 'retry'; reason: 'noInput' | 'noMatch'; state: string }
  | { kind: 'digit' }
  | { kind: 'store'; slot: string; terminator: string | undefined }
  | { kind: 'bargeIn' }
  | { kind: 'resume' }
  | { kind: 'start' };

interface StepResult {
  context: Partial<CallContext>;
  effects: Effect[];
}

/** The machine a call runs; its actions are effects, so the caller of `transition()` sees them all. */
export function createCallMachine(flow: FlowFile, policy: ResolvedPolicy = resolvePolicy(flow)) {
  const step = (ctx: CallContext, event: CallEvent, params: StepParams): StepResult =>
    runStep(flow, policy, ctx, event, params);

  const base = setup({
    types: {
      context: {} as CallContext,
      events: {} as CallEvent,
      emitted: {} as Effect,
    },
    actions: {
      // Effects are emitted, so a running actor delivers them to its runner (`actor.on('*')`) and the pure
      // `transition()` returns them as actions for replay.
      step: enqueueActions(({ context, event, enqueue }, params: StepParams) => {
        const result = step(context, event, params);
        enqueue.assign(result.context);
        for (const effect of result.effects) enqueue.emit(effect);
      }),
    },
    guards: {
      markIs: ({ context, event }) => event.type === 'played' && event.mark === context.playing,
      timerIs: ({ context, event }) => event.type === 'timer' && event.id === context.timer,
      digitIs: ({ event }, params: { digit: string }) =>
        event.type === 'dtmf' && event.digit === params.digit,
      retriesLeft: ({ context }) => context.retries < policy.maxRetries,
      entryComplete: ({ context, event }, params: DigitsDef) =>
        isEntryComplete(context.digits, event, params),
      entryTooShort: ({ context, event }, params: DigitsDef) =>
        event.type === 'dtmf' &&
        event.digit === params.terminator &&
        context.digits.length < (params.min ?? 1),
      timedOutWithDigits: ({ context, event }, params: DigitsDef) =>
        event.type === 'timer' &&
        event.id === context.timer &&
        context.digits.length >= Math.max(1, params.min ?? 1),
    },
  });

  type Config = Parameters<typeof base.createMachine>[0];
  type StateConfig = NonNullable<Config['states']>[string];

  const fallback = policy.fallback ?? GIVE_UP_STATE;
  const states: Record<string, StateConfig> = {};

  for (const [name, def] of Object.entries(flow.states)) {
    const on: Record<string, unknown> = {};
    const waitsForInput = def.on !== undefined || def.collect !== undefined;
    // Retry with an apology and the prompt again, or leave for the fallback when retries run out.
    const retry = (reason: 'noInput' | 'noMatch', guard?: unknown) => [
      {
        guard: guard ? and([guard as never, 'retriesLeft']) : 'retriesLeft',
        actions: { type: 'step', params: { kind: 'retry', reason, state: name } },
      },
      {
        ...(guard ? { guard } : {}),
        target: fallback,
        actions: { type: 'step', params: { kind: 'bargeIn' } },
      },
    ];

    if (waitsForInput) {
      on.played = { guard: 'markIs', actions: { type: 'step', params: { kind: 'listen' } } };
    } else if (def.next !== undefined && !def.hangup) {
      on.played = { guard: 'markIs', target: def.next };
    }

    if (def.on) {
      const branches: unknown[] = [];
      for (const [input, to] of Object.entries(def.on)) {
        const digit = input.slice('dtmf:'.length);
        branches.push({
          guard: { type: 'digitIs', params: { digit } },
          target: to,
          actions: { type: 'step', params: { kind: 'bargeIn' } },
        });
      }
      on.dtmf = [...branches, ...retry('noMatch')];
      on.timer = retry('noInput', 'timerIs');
    }

    if (def.collect) {
      const digits = def.collect.digits;
      const store = {
        type: 'step',
        params: { kind: 'store', slot: def.collect.slot, terminator: digits.terminator },
      };
      on.dtmf = [
        { guard: { type: 'entryComplete', params: digits }, target: def.next, actions: store },
        ...retry('noMatch', { type: 'entryTooShort', params: digits }),
        { actions: { type: 'step', params: { kind: 'digit' } } },
      ];
      on.timer = [
        { guard: { type: 'timedOutWithDigits', params: digits }, target: def.next, actions: store },
        ...retry('noInput', 'timerIs'),
      ];
    }

    states[name] = {
      entry: { type: 'step', params: { kind: 'enter', state: name } },
      exit: { type: 'step', params: { kind: 'exit' } },
      ...(def.say === undefined && def.next !== undefined && !waitsForInput && !def.hangup
        ? { always: def.next }
        : {}),
      on,
    };
  }

  states[BOOT_STATE] = {
    on: { 'call.start': { target: flow.start, actions: { type: 'step', params: { kind: 'start' } } } },
  };
  states[GIVE_UP_STATE] = {
    entry: { type: 'step', params: { kind: 'enter', state: GIVE_UP_STATE } },
  };
  states[ENDED_STATE] = { type: 'final', entry: { type: 'step', params: { kind: 'exit' } } };

  return base.createMachine({
    id: flow.id,
    initial: BOOT_STATE,
    context: {
      callId: '',
      state: BOOT_STATE,
      slots: {},
      digits: '',
      retries: 0,
      seq: 0,
      playing: null,
      timer: null,
      startedAt: 0,
      lastEventAt: 0,
    },
    on: {
      hangup: { target: `.${ENDED_STATE}` },
      resume: { actions: { type: 'step', params: { kind: 'resume' } } },
    },
    states,
  });
}

export type CallMachine = ReturnType<typeof createCallMachine>;

/** Compile a validated flow. */
export function compileFlow(flow: FlowFile): CompiledFlow {
  const policy = resolvePolicy(flow);
  return { flow, policy, machine: createCallMachine(flow, policy) };
}

/** Is the digit entry complete once this event's digit is taken? */
function isEntryComplete(digits: string, event: CallEvent, def: DigitsDef): boolean {
  if (event.type !== 'dtmf') return false;
  if (event.digit === def.terminator) return digits.length >= (def.min ?? 1);
  return def.max !== undefined && digits.length + 1 >= def.max;
}

function runStep(
  flow: FlowFile,
  policy: ResolvedPolicy,
  ctx: CallContext,
  event: CallEvent,
  params: StepParams,
): StepResult {
  const at = event.at;
  const effects: Effect[] = [];
  const next: Partial<CallContext> = { lastEventAt: at };
  let seq = ctx.seq;
  // A mark names the state it speaks for, so a timeline or a log reads "menu.3", not just "m3".
  const say = (state: string, text: string): string => {
    seq += 1;
    const mark = `${state}.${seq}`;
    effects.push(flow.voice ? { type: 'say', text, mark, voice: flow.voice } : { type: 'say', text, mark });
    return mark;
  };
  const armTimer = (): string => {
    seq += 1;
    const id = `t${seq}`;
    effects.push({ type: 'timer.start', id, ms: policy.noInputMs });
    return id;
  };
  const stopAudio = (): void => {
    if (ctx.playing !== null) effects.push({ type: 'clear' });
    next.playing = null;
  };
  const stopTimer = (): void => {
    if (ctx.timer !== null) effects.push({ type: 'timer.cancel', id: ctx.timer });
    next.timer = null;
  };
  const def = (name: string): StateDef | undefined => flow.states[name];

  switch (params.kind) {
    case 'start':
      if (event.type === 'call.start') Object.assign(next, { callId: event.callId, startedAt: at });
      break;
    case 'enter': {
      const state = def(params.state);
      next.state = params.state;
      next.digits = '';
      next.retries = 0;
      next.timer = null;
      if (params.state === GIVE_UP_STATE) {
        next.playing = say(GIVE_UP_STATE, GIVE_UP_SAY);
        effects.push({ type: 'hangup' });
        break;
      }
      if (!state) break;
      next.playing = state.say !== undefined ? say(params.state, renderTemplate(state.say, ctx.slots)) : null;
      if (state.hangup) effects.push({ type: 'hangup' });
      else if (next.playing === null && (state.on || state.collect)) next.timer = armTimer();
      break;
    }
    case 'exit':
      stopTimer();
      break;
    case 'listen':
      next.playing = null;
      next.timer = armTimer();
      break;
    case 'bargeIn':
      stopAudio();
      break;
    case 'digit':
      if (event.type === 'dtmf') {
        stopAudio();
        next.digits = ctx.digits + event.digit;
        // Each key restarts the wait, so a slow typist is not cut off mid-number.
        stopTimer();
        next.timer = armTimer();
      }
      break;
    case 'store': {
      stopAudio();
      const digits =
        event.type === 'dtmf' && event.digit !== params.terminator ? ctx.digits + event.digit : ctx.digits;
      next.slots = { ...ctx.slots, [params.slot]: digits };
      next.digits = '';
      break;
    }
    case 'retry': {
      stopAudio();
      stopTimer();
      const state = def(params.state);
      const apology =
        params.reason === 'noInput'
          ? (state?.noInputSay ?? policy.noInputSay)
          : (state?.noMatchSay ?? policy.noMatchSay);
      const prompt = state?.say !== undefined ? ` ${renderTemplate(state.say, ctx.slots)}` : '';
      next.retries = ctx.retries + 1;
      next.digits = '';
      next.playing = say(params.state, renderTemplate(apology, ctx.slots) + prompt);
      break;
    }
    case 'resume': {
      const state = def(ctx.state);
      if (!state || ctx.state === BOOT_STATE) break;
      stopAudio();
      stopTimer();
      if (state.say !== undefined) next.playing = say(ctx.state, renderTemplate(state.say, ctx.slots));
      else if (state.on || state.collect) next.timer = armTimer();
      if (state.hangup) effects.push({ type: 'hangup' });
      break;
    }
  }
  next.seq = seq;
  return { context: next, effects };
}

export type { AnyStateMachine };
