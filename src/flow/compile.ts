/**
 * Compiles a validated flow into an xstate machine. Each flow state becomes a machine state whose transitions are
 * chosen by `route` (route.ts), and whose bookkeeping (prompts, marks, timers, retries, digit buffers, slots) is
 * done by the pure `runStep` here, so the machine stays deterministic: the same events always give the same
 * states and effects.
 */
import { enqueueActions, setup } from 'xstate';
import type { AnyStateMachine } from 'xstate';
import { eventsOf, isDecision, OUTCOME_EVENTS } from './actions/index.ts';
import { hearsAnswers, machineTarget } from './answered.ts';
import type { CallContext, CallEvent, Effect } from './events.ts';
import { possibleTargets, routeDecision, routeOnce, routingTable } from './route.ts';
import { BOOT_STATE, ENDED_STATE, GIVE_UP_STATE } from './routing.ts';
import { runStep, type StepParams } from './step.ts';
import { expandSubflows } from './subflows.ts';
import { resolvePolicy } from './policy.ts';
import type { FlowFile, ResolvedPolicy } from './types.ts';

export { BOOT_STATE, ENDED_STATE, GIVE_UP_STATE } from './routing.ts';
export { resolvePolicy } from './policy.ts';

export interface CompiledFlow {
  flow: FlowFile;
  policy: ResolvedPolicy;
  machine: CallMachine;
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
      machineAnswered: ({ context, event }) => machineTarget(flow, context, event) !== undefined,
      hearsAnswers: ({ context }) => hearsAnswers(context),
      callStarted: ({ context }) => context.state !== BOOT_STATE,
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
    // Every state hears its prompts end, its timer, and the caller speaking over it; its actions say what else.
    const on: Record<string, unknown> = {
      played: transitions,
      timer: transitions,
      'speech.start': transitions,
    };
    for (const event of eventsOf(def)) on[event] = transitions;
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
  const onMachine = flow.on?.machine;
  const answered = { type: 'step', params: { kind: 'answered' } } as const;
  const leave = { type: 'step', params: { kind: 'leave' } } as const;
  // Outcomes of work that outlives its state (a recording) are kept wherever the call is, which stays there.
  const outcomes: Record<string, unknown> = {};
  for (const event of OUTCOME_EVENTS) {
    outcomes[event] = { guard: 'callStarted', actions: { type: 'step', params: { kind: 'outcome' } } };
  }
  return base.createMachine({
    id: flow.id,
    initial: BOOT_STATE,
    context: INITIAL_CONTEXT,
    on: {
      ...outcomes,
      hangup: { target: `.${ENDED_STATE}` },
      resume: { actions: { type: 'step', params: { kind: 'resume' } } },
      'speech.failover': { actions: { type: 'step', params: { kind: 'failover' } } },
      giveUp: {
        target: `.${onGiveUp ?? GIVE_UP_STATE}`,
        reenter: true,
        actions: leave,
      },
      // The answer is kept before the machine's state is entered, so its prompt can read `call.answeredBy`.
      answered: [
        ...(onMachine === undefined
          ? []
          : [
              {
                guard: 'machineAnswered',
                target: `.${onMachine}`,
                reenter: true,
                actions: [leave, answered],
              } as const,
            ]),
        { guard: 'hearsAnswers', actions: answered },
      ],
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

export type { AnyStateMachine };
