/**
 * Compiles a validated flow into an xstate machine. Each flow state becomes a machine state whose transitions are
 * chosen by `route` (route.ts), and whose bookkeeping (prompts, marks, timers, retries, digit buffers, slots) is
 * done by the pure `runStep` here, so the machine stays deterministic: the same events always give the same
 * states and effects.
 */
import { enqueueActions, setup } from 'xstate';
import type { AnyStateMachine } from 'xstate';
import type { CallContext, CallEvent, Effect } from './events.ts';
import {
  BOOT_STATE,
  ENDED_STATE,
  GIVE_UP_STATE,
  acts,
  isDecision,
  possibleTargets,
  routeDecision,
  routeOnce,
  routingTable,
  waitsForInput,
  type Route,
  type RoutingTable,
} from './route.ts';
import { expandSubflows } from './subflows.ts';
import { renderTemplate } from './template.ts';
import { resolvePolicy } from './policy.ts';
import { GIVE_UP_SAY, escalate, globalCheck } from './prompts.ts';
import type { FlowFile, ResolvedPolicy, StateDef } from './types.ts';

export { BOOT_STATE, ENDED_STATE, GIVE_UP_STATE } from './route.ts';
export { resolvePolicy } from './policy.ts';

export interface CompiledFlow {
  flow: FlowFile;
  policy: ResolvedPolicy;
  machine: CallMachine;
}

type StepParams =
  | { kind: 'start' }
  | { kind: 'enter'; state: string }
  | { kind: 'exit' }
  /** Carry out what `route` decided for this event in `state`. */
  | { kind: 'route'; state: string }
  /** Leaving without input (a decision state, the supervisor giving up): stop what is playing. */
  | { kind: 'leave' }
  | { kind: 'resume' }
  | { kind: 'failover' };

interface StepResult {
  context: Partial<CallContext>;
  effects: Effect[];
}

const INITIAL_CONTEXT: CallContext = {
  callId: '',
  state: BOOT_STATE,
  slots: {},
  digits: '',
  confirming: false,
  env: {},
  pending: null,
  retries: 0,
  seq: 0,
  playing: null,
  timer: null,
  startedAt: 0,
  lastEventAt: 0,
};

/** The machine a call runs; its actions are effects, so the caller of `transition()` sees them all. */
export function createCallMachine(flow: FlowFile, policy: ResolvedPolicy = resolvePolicy(flow)) {
  const table = routingTable(flow, policy);

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
        const result = runStep(table, context, event, params);
        enqueue.assign(result.context);
        for (const effect of result.effects) enqueue.emit(effect);
      }),
    },
    guards: {
      routesTo: ({ context, event }, params: { state: string; target: string }) => {
        const r = routeOnce(table, params.state, context, event);
        return r.kind === 'goto' && r.target === params.target;
      },
      stays: ({ context, event }, params: { state: string }) =>
        routeOnce(table, params.state, context, event).kind === 'stay',
      decidesFor: ({ context }, params: { state: string; target: string }) => {
        const r = routeDecision(table, params.state, context);
        return r.kind === 'goto' && r.target === params.target;
      },
    },
  });

  type Config = Parameters<typeof base.createMachine>[0];
  type StateConfig = NonNullable<Config['states']>[string];

  const states: Record<string, StateConfig> = {};
  for (const [name, def] of Object.entries(flow.states)) {
    const targets = possibleTargets(table, name);
    const act = { type: 'step', params: { kind: 'route', state: name } } as const;
    const transitions = [
      ...targets.map((target) => ({
        guard: { type: 'routesTo', params: { state: name, target } } as const,
        target,
        reenter: true,
        actions: act,
      })),
      { guard: { type: 'stays', params: { state: name } } as const, actions: act },
    ];
    const on: Record<string, unknown> = { played: transitions, timer: transitions };
    if (waitsForInput(def)) Object.assign(on, { dtmf: transitions, utterance: transitions });
    if (acts(def)) {
      Object.assign(on, {
        'http.done': transitions,
        'http.failed': transitions,
        'transfer.failed': transitions,
      });
    }
    states[name] = {
      entry: { type: 'step', params: { kind: 'enter', state: name } },
      exit: { type: 'step', params: { kind: 'exit' } },
      ...(isDecision(def)
        ? {
            always: targets.map((target) => ({
              guard: { type: 'decidesFor', params: { state: name, target } } as const,
              target,
              reenter: true,
            })),
          }
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

  const onGiveUp = policy.supervisor.onGiveUp;
  return base.createMachine({
    id: flow.id,
    initial: BOOT_STATE,
    context: INITIAL_CONTEXT,
    on: {
      hangup: { target: `.${ENDED_STATE}` },
      resume: { actions: { type: 'step', params: { kind: 'resume' } } },
      'speech.failover': { actions: { type: 'step', params: { kind: 'failover' } } },
      giveUp: {
        target: `.${onGiveUp ?? GIVE_UP_STATE}`,
        reenter: true,
        actions: { type: 'step', params: { kind: 'leave' } },
      },
    },
    states,
  });
}

export type CallMachine = ReturnType<typeof createCallMachine>;

/**
 * Compile a validated flow. Sub-flows are expanded first, and the compiled `flow` is the expanded one: the
 * machine's states, and everything that looks a state up by name, see the copies.
 */
export function compileFlow(file: FlowFile): CompiledFlow {
  const flow = expandSubflows(file);
  const policy = resolvePolicy(flow);
  return { flow, policy, machine: createCallMachine(flow, policy) };
}

function runStep(table: RoutingTable, ctx: CallContext, event: CallEvent, params: StepParams): StepResult {
  const { flow, policy } = table;
  const at = event.at;
  const effects: Effect[] = [];
  const next: Partial<CallContext> = { lastEventAt: at };
  let seq = ctx.seq;
  let slots = ctx.slots;
  const env = event.type === 'call.start' ? (event.env ?? {}) : ctx.env;
  const render = (template: string): string => renderTemplate(template, slots, env);
  // A mark names the state it speaks for, so a timeline or a log reads "menu.3", not just "m3".
  const say = (state: string, text: string, ssml?: string): string => {
    seq += 1;
    const mark = `${state}.${seq}`;
    const effect: Effect = { type: 'say', text, mark };
    if (ssml !== undefined) effect.ssml = ssml;
    if (flow.voice) effect.voice = flow.voice;
    effects.push(effect);
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
  /**
   * Make the state's web request or transfer. The id (and so the idempotency key) is kept in `pending`: a
   * restart re-issues the same request under the same key, so the service can tell it is a repeat.
   */
  const act = (name: string, def: StateDef, id: string = `${name}.${(seq += 1)}`): void => {
    next.pending = id;
    if (def.http) {
      const http = def.http;
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(http.headers ?? {})) headers[key] = render(value);
      effects.push({
        type: 'http',
        id,
        idempotencyKey: `${ctx.callId}:${id}`,
        method: http.method ?? 'POST',
        url: render(http.url),
        headers,
        body: http.body === undefined ? null : renderDeep(http.body, render),
        timeoutMs: http.timeoutMs ?? 5000,
        retries: http.retries ?? 2,
        map: http.map ?? {},
      });
    } else if (def.transfer !== undefined) {
      effects.push({ type: 'transfer', id, to: render(def.transfer) });
    }
  };
  const setSlots = (values: Record<string, string>): void => {
    slots = { ...slots, ...values };
    next.slots = slots;
  };
  /** The state's question: the read-back while confirming, else its prompt; `before` is rendered text. */
  const ask = (name: string, def: StateDef, confirming: boolean, before = ''): void => {
    const prompt = confirming ? def.collect?.confirm : def.say;
    const text = [before, prompt === undefined ? '' : render(prompt)].filter((t) => t !== '').join(' ');
    // The state's SSML carries its prompt; an apology before it goes in as escaped text.
    const ssml =
      !confirming && def.ssml !== undefined
        ? renderTemplate(def.ssml, slots, env, escapeXml).replace(/<speak([^>]*)>/, (open) =>
            before === '' ? open : `${open}${escapeXml(before)} `,
          )
        : undefined;
    if (text !== '') next.playing = say(name, text, ssml);
    else if (waitsForInput(def) || confirming) next.timer = armTimer();
  };

  const applyRoute = (name: string, def: StateDef, r: Route): void => {
    if (r.kind === 'ignore') return;
    // Whatever answered "did you mean...?" settles it (the check's own prompt ending does not).
    const settles = r.kind === 'goto' || (r.action.kind !== 'listen' && r.action.kind !== 'checkGlobal');
    if (ctx.checking !== undefined && settles) next.checking = undefined;
    if (r.kind === 'goto') {
      if (r.input) stopAudio();
      if (r.slots) setSlots(r.slots);
      return;
    }
    const action = r.action;
    switch (action.kind) {
      case 'listen':
        next.playing = null;
        next.timer = armTimer();
        return;
      case 'digit':
        stopAudio();
        next.digits = ctx.digits + action.digit;
        // Each key restarts the wait, so a slow typist is not cut off mid-number.
        stopTimer();
        next.timer = armTimer();
        return;
      case 'repeat':
        stopAudio();
        stopTimer();
        ask(name, def, ctx.confirming);
        return;
      case 'retry': {
        stopAudio();
        stopTimer();
        next.retries = ctx.retries + 1;
        next.digits = '';
        const apology =
          action.reason === 'invalid' && def.collect?.invalidSay !== undefined
            ? // The slot keeps no refused value, but its apology may read back what was heard.
              renderTemplate(def.collect.invalidSay, { ...slots, [action.slot]: action.value }, env)
            : render(
                escalate(
                  action.reason === 'noInput'
                    ? (def.noInputSay ?? policy.noInputSay)
                    : (def.noMatchSay ?? policy.noMatchSay),
                  ctx.retries,
                ),
              );
        ask(name, def, ctx.confirming, apology);
        return;
      }
      case 'confirm':
        stopAudio();
        stopTimer();
        setSlots({ [action.slot]: action.value });
        next.digits = '';
        next.confirming = true;
        ask(name, def, true);
        return;
      case 'act':
        next.playing = null;
        act(name, def);
        return;
      case 'checkGlobal':
        stopAudio();
        stopTimer();
        next.digits = '';
        next.checking = action.intent;
        next.playing = say(name, globalCheck(flow, action.intent));
        return;
      case 'declineGlobal':
        stopAudio();
        stopTimer();
        ask(name, def, ctx.confirming);
        return;
      case 'reask': {
        stopAudio();
        stopTimer();
        const rest = { ...slots };
        delete rest[action.slot];
        slots = rest;
        next.slots = rest;
        next.confirming = false;
        next.digits = '';
        ask(name, def, false);
        return;
      }
    }
  };

  switch (params.kind) {
    case 'start':
      if (event.type === 'call.start') Object.assign(next, { callId: event.callId, startedAt: at, env });
      break;
    case 'enter': {
      Object.assign(next, {
        state: params.state,
        digits: '',
        confirming: false,
        checking: undefined,
        retries: 0,
        timer: null,
        pending: null,
      });
      if (params.state === GIVE_UP_STATE) {
        next.playing = say(GIVE_UP_STATE, GIVE_UP_SAY);
        effects.push({ type: 'hangup' });
        break;
      }
      const def = flow.states[params.state];
      if (!def) break;
      if (def.set) {
        const values: Record<string, string> = {};
        for (const [slot, template] of Object.entries(def.set)) values[slot] = render(template);
        setSlots(values);
      }
      next.playing = null;
      ask(params.state, def, false);
      // Without a prompt to wait for, the request or transfer starts at once.
      if (acts(def) && def.say === undefined) act(params.state, def);
      if (def.hangup) effects.push({ type: 'hangup' });
      break;
    }
    case 'exit':
      stopTimer();
      break;
    case 'leave':
      stopAudio();
      break;
    case 'route': {
      const def = flow.states[params.state];
      if (def) applyRoute(params.state, def, routeOnce(table, params.state, ctx, event));
      break;
    }
    case 'resume': {
      const def = flow.states[ctx.state];
      if (!def || ctx.state === BOOT_STATE) break;
      stopAudio();
      stopTimer();
      // A resumed call is asked its state's question, not a half-remembered "did you mean...?".
      next.checking = undefined;
      if (ctx.pending !== null) {
        // The request was under way: issue it again, under the same id and idempotency key.
        act(ctx.state, def, ctx.pending);
        break;
      }
      if (def.resumeSay !== undefined) next.playing = say(ctx.state, render(def.resumeSay));
      else ask(ctx.state, def, ctx.confirming);
      if (def.hangup) effects.push({ type: 'hangup' });
      break;
    }
    case 'failover': {
      if (event.type !== 'speech.failover') break;
      next.speech = { ...ctx.speech, [event.service]: event.to };
      const rule = policy.speechFailover;
      const message = event.to === 'dtmf' ? rule.keypadSay : rule.say;
      const def = flow.states[ctx.state];
      if (!def || ctx.pending !== null || !(waitsForInput(def) || ctx.confirming)) break;
      // The failed turns were the service's fault, not the caller's: they do not use up the state's retries.
      next.retries = 0;
      if (message === '') break;
      // Said where the caller is being asked something, with the question again so they know how to answer.
      stopAudio();
      stopTimer();
      next.digits = '';
      ask(ctx.state, def, ctx.confirming, render(message));
      break;
    }
  }
  next.seq = seq;
  return { context: next, effects };
}

/** Text made safe inside SSML. */
function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `body` with every string in it rendered as a template. */
function renderDeep(value: unknown, render: (template: string) => string): unknown {
  if (typeof value === 'string') return render(value);
  if (Array.isArray(value)) return value.map((item) => renderDeep(item, render));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderDeep(item, render)]));
  }
  return value;
}

export type { AnyStateMachine };
