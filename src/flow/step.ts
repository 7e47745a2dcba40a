/**
 * One step of a call's machine, pure: given the context, the event and what the machine is doing (entering a
 * state, carrying out a route, resuming), the context changes and the effects, in order. Prompts, marks, timers,
 * retries and digit buffers are kept here; what a state's actions do on entry and when the state acts is asked of
 * the actions (src/flow/actions/).
 */
import { ACTIONS, acts, outcomeContext, promptOf, waitsForInput, type Step } from './actions/index.ts';
import {
  CLEAR_EFFECT,
  HANGUP_EFFECT,
  escapeSsml,
  sayEffect,
  timerCancel,
  timerStart,
} from './actions/index.ts';
import type { Retry } from './actions/action.ts';
import { answeredCall } from './answered.ts';
import type { CallContext, CallEvent, Effect } from './events.ts';
import { routeOnce } from './route.ts';
import { BOOT_STATE, GIVE_UP_STATE, type Route, type RoutingTable } from './routing.ts';
import { renderTemplate } from './template.ts';
import { GIVE_UP_SAY, globalCheck } from './prompts.ts';
import type { StateDef } from './types.ts';

export type StepParams =
  | { kind: 'start' }
  | { kind: 'enter'; state: string }
  | { kind: 'exit' }
  /** Carry out what `route` decided for this event in `state`. */
  | { kind: 'route'; state: string }
  /** Leaving without input (a decision state, the supervisor giving up): stop what is playing. */
  | { kind: 'leave' }
  | { kind: 'resume' }
  | { kind: 'failover' }
  /** Keep who answered the call (answered.ts). */
  | { kind: 'answered' }
  /** Keep what an outcome event heard in any state says (an action's `outcomes`). */
  | { kind: 'outcome' };

export interface StepResult {
  context: Partial<CallContext>;
  effects: Effect[];
}

export function runStep(
  table: RoutingTable,
  ctx: CallContext,
  event: CallEvent,
  params: StepParams,
): StepResult {
  const { flow, policy } = table;
  const at = event.at;
  const effects: Effect[] = [];
  const next: Partial<CallContext> = { lastEventAt: at };
  let seq = ctx.seq;
  let slots = ctx.slots;
  const env = event.type === 'call.start' ? (event.env ?? {}) : ctx.env;
  const call = event.type === 'call.start' ? event.call : ctx.call;
  const render = (template: string, values: Readonly<Record<string, string>> = slots): string =>
    renderTemplate(template, values, { env, call });
  const setSlots = (values: Record<string, string>): void => {
    slots = { ...slots, ...values };
    next.slots = slots;
  };
  // A mark names the state it speaks for, so a timeline or a log reads "menu.3", not just "m3".
  const say = (state: string, text: string, ssml?: string): string => {
    seq += 1;
    const mark = `${state}.${seq}`;
    effects.push(sayEffect(text, mark, ssml, flow.voice));
    return mark;
  };
  const here = params.kind === 'enter' || params.kind === 'route' ? params.state : ctx.state;
  const step: Step = {
    flow,
    policy,
    ctx,
    get slots() {
      return slots;
    },
    render,
    emit: (effect) => effects.push(effect),
    setSlots,
    say: (text) => {
      next.playing = say(here, text);
    },
    nextId: () => `${here}.${(seq += 1)}`,
    note: (fields) => {
      Object.assign(next, fields);
    },
  };
  const armTimer = (): string => {
    seq += 1;
    const id = `t${seq}`;
    effects.push(timerStart(id, policy.noInputMs));
    return id;
  };
  const stopAudio = (): void => {
    if (ctx.playing !== null) effects.push(CLEAR_EFFECT);
    next.playing = null;
  };
  const stopTimer = (): void => {
    if (ctx.timer !== null) effects.push(timerCancel(ctx.timer));
    next.timer = null;
  };
  /**
   * Start the state's work (a web request, a transfer). The id (and so the idempotency key) is kept in `pending`:
   * a restart re-issues the same request under the same key, so the service can tell it is a repeat.
   */
  const act = (name: string, def: StateDef, id: string = `${name}.${(seq += 1)}`): void => {
    next.pending = id;
    for (const action of ACTIONS) action.act?.(def, id, step);
  };
  const after = (def: StateDef): void => {
    for (const action of ACTIONS) action.after?.(def, step);
  };
  /** The state's question: the read-back while confirming, else its prompt; `before` is rendered text. */
  const ask = (name: string, def: StateDef, confirming: boolean, before = ''): void => {
    const prompt = promptOf(def, confirming);
    const text = [before, prompt === undefined ? '' : render(prompt.text)].filter((t) => t !== '').join(' ');
    // The state's SSML carries its prompt; an apology before it goes in as escaped text.
    const ssml =
      prompt?.ssml !== undefined
        ? renderTemplate(prompt.ssml, slots, { env, call }, escapeSsml).replace(/<speak([^>]*)>/, (open) =>
            before === '' ? open : `${open}${escapeSsml(before)} `,
          )
        : undefined;
    if (text !== '') next.playing = say(name, text, ssml);
    // Without a prompt, the wait starts now, or once a line said on entering has been heard.
    else if ((waitsForInput(def) || confirming) && !next.playing) next.timer = armTimer();
  };
  const apology = (def: StateDef, retry: Retry): string => {
    for (const action of ACTIONS) {
      const text = action.apology?.(def, retry, step);
      if (text !== undefined) return text;
    }
    return '';
  };

  const applyRoute = (name: string, def: StateDef, r: Route): void => {
    if (r.kind === 'ignore') return;
    // Whatever answered "did you mean...?" settles it (the check's own prompt ending, or speech starting, does not).
    const settles =
      r.kind === 'goto' ||
      (r.action.kind !== 'listen' && r.action.kind !== 'checkGlobal' && r.action.kind !== 'bargeIn');
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
      case 'bargeIn':
        // The cut prompt's mark never counts as heard (its `played`, if it comes, no longer matches): the words
        // the caller is saying answer the question.
        stopAudio();
        return;
      case 'digit':
        stopAudio();
        next.digits = ctx.digits + action.digit;
        // Each key restarts the wait, so a slow typist is not cut off mid-number.
        stopTimer();
        next.timer = armTimer();
        return;
      case 'repeat':
      case 'declineGlobal':
        stopAudio();
        stopTimer();
        ask(name, def, ctx.confirming);
        return;
      case 'retry':
        stopAudio();
        stopTimer();
        next.retries = ctx.retries + 1;
        next.digits = '';
        ask(name, def, ctx.confirming, apology(def, action));
        return;
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
      if (event.type === 'call.start') {
        Object.assign(next, { callId: event.callId, startedAt: at, env });
        // Only when given, so the context of a call journaled without it is as it was.
        if (call !== undefined) next.call = call;
      }
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
        effects.push(HANGUP_EFFECT);
        break;
      }
      const def = flow.states[params.state];
      if (!def) break;
      next.playing = null;
      for (const action of ACTIONS) action.enter?.(def, step);
      ask(params.state, def, false);
      // Without a prompt to wait for, the state's work starts at once.
      if (acts(def) && promptOf(def, false) === undefined) act(params.state, def);
      after(def);
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
        // The work was under way: start it again, under the same id and idempotency key.
        act(ctx.state, def, ctx.pending);
        break;
      }
      const resumeSay = ACTIONS.map((a) => a.resumePrompt?.(def)).find((text) => text !== undefined);
      if (resumeSay !== undefined) next.playing = say(ctx.state, render(resumeSay));
      else ask(ctx.state, def, ctx.confirming);
      after(def);
      break;
    }
    case 'answered': {
      const answered = answeredCall(ctx, event);
      if (answered !== undefined) next.call = answered;
      break;
    }
    case 'outcome':
      Object.assign(next, outcomeContext(ctx, event));
      break;
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
