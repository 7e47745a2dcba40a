/**
 * Structural checks of a flow file, each finding located by a JSON pointer so a person can fix it, followed by
 * the static checks of checks.ts once the structure holds. A flow that passes compiles to a machine without
 * further checks. The keys of a state are checked by the actions that own them (src/flow/actions/); what is
 * left here is the file around them: names, intents, entities, sub-flows, the flow's `on`, the policy,
 * references (the flow-level keys an action owns are checked by it too).
 */
import { ACTIONS, FLOW_KEYS, STATE_KEYS, stateFacts, type StateCheck } from './actions/index.ts';
import { COPY_SEPARATOR, RETURN } from './subflows.ts';
import { nameHints } from './suggest.ts';
import { BUILTIN_INTENT_NAMES, type FlowFile } from './types.ts';
import { expandedChecks } from './validate/expanded.ts';
import { escapePointer, finding, isObject, unknownKeys, type Finding } from './validate/finding.ts';
import { checkFlowOn } from './validate/flow-on.ts';
import { checkEntities, checkIntents } from './validate/intents.ts';
import { checkModel } from './validate/model.ts';
import { checkPolicy } from './validate/policy.ts';
import { checkCondition, checkTemplate, targetIn } from './validate/references.ts';

export { escapePointer, finding, type Finding } from './validate/finding.ts';
export { JSON_POINTER, URL_START } from './actions/index.ts';
export { E164 } from '../common/e164.ts';

/** `ok` is true iff there is no error; warnings come with either outcome. */
export type ValidationResult =
  { ok: true; flow: FlowFile; findings: Finding[] } | { ok: false; findings: Finding[] };

const ROOT_KEYS = new Set([
  '$schema',
  'id',
  'version',
  'language',
  'voice',
  'start',
  'intents',
  'entities',
  'states',
  'subflows',
  'on',
  'policy',
  'model',
  // Keys the actions own, such as the consent line of a call recorded from its start.
  ...FLOW_KEYS,
]);
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const STATE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** Check a parsed flow file; on success the value is typed as a FlowFile. */
export function validateFlow(value: unknown): ValidationResult {
  const findings: Finding[] = [];
  const add = (pointer: string, message: string, hint?: string): void => {
    findings.push(finding('error', pointer, message, hint));
  };
  const warn = (pointer: string, message: string, hint?: string): void => {
    findings.push(finding('warning', pointer, message, hint));
  };

  if (!isObject(value)) {
    add('', 'a flow must be a JSON object');
    return { ok: false, findings };
  }
  unknownKeys(value, ROOT_KEYS, '', add);

  if (typeof value.id !== 'string' || !ID_PATTERN.test(value.id)) {
    add('/id', 'id must be a string of letters, digits, "-" or "_" (at most 64)', 'e.g. "id": "pizza"');
  }
  if (!Number.isInteger(value.version) || (value.version as number) < 1) {
    add('/version', 'version must be a positive integer');
  }
  for (const key of ['$schema', 'language', 'voice'] as const) {
    if (value[key] !== undefined && typeof value[key] !== 'string') add(`/${key}`, `${key} must be a string`);
  }

  const states = value.states;
  if (!isObject(states) || Object.keys(states).length === 0) {
    add('/states', 'states must be an object with at least one state');
    return { ok: false, findings };
  }
  const names = new Set(Object.keys(states));
  const hints = nameHints(names, 'states');
  const stateRef = (pointer: string, name: unknown): void => {
    if (typeof name !== 'string') add(pointer, 'a target must be a state name');
    else if (name === RETURN) add(pointer, `"${RETURN}" is a target only inside a sub-flow`);
    else if (!names.has(name)) add(pointer, `unknown state "${name}"`, hints(name));
  };
  const subflows = isObject(value.subflows) ? value.subflows : {};
  if (value.subflows !== undefined && !isObject(value.subflows)) {
    add('/subflows', 'subflows must map sub-flow names to { "start": state, "states": {...} }');
  }
  const subflowStates = (def: unknown): Record<string, unknown> =>
    isObject(def) && isObject(def.states) ? def.states : {};

  if (typeof value.start !== 'string') add('/start', 'start must name the first state');
  else stateRef('/start', value.start);

  // Slots a state collects or sets; templates and conditions may read only these.
  const collected = new Set<string>();
  const everyState = [
    ...Object.values(states),
    ...Object.values(subflows).flatMap((def) => Object.values(subflowStates(def))),
  ];
  for (const state of everyState) {
    if (!isObject(state)) continue;
    for (const action of ACTIONS) for (const slot of action.stores?.(state) ?? []) collected.add(slot);
  }
  const slotHints = nameHints(collected, 'slots');
  const slotHint = (slot: string): string | undefined => (collected.size > 0 ? slotHints(slot) : undefined);
  const template = (text: string, at: string): void => checkTemplate(text, at, collected, slotHint, add);
  const condition = (source: unknown, at: string): void =>
    checkCondition(source, at, collected, slotHint, add);

  const intents = checkIntents(value.intents, stateRef, add, warn);
  const entities = checkEntities(value.entities, add, warn);
  checkModel(value.model, intents, add);
  const inputs = new Set([...BUILTIN_INTENT_NAMES, ...intents]);
  const refNames: StateCheck['names'] = {
    inputs,
    intentHints: nameHints(inputs, 'intents'),
    entities,
    entityHints: nameHints(entities, 'entities'),
    subflows,
    subflowHints: nameHints(new Set(Object.keys(subflows)), 'sub-flows'),
    called: new Set<string>(),
  };

  // `subflow` is the sub-flow the state belongs to, null for the flow's own states.
  const checkState = (
    name: string,
    state: unknown,
    at: string,
    ref: (pointer: string, name: unknown) => void,
    subflow: string | null,
  ): void => {
    if (!STATE_NAME.test(name))
      add(at, 'state names start with a letter and use letters, digits, "-" or "_"');
    else if (name.includes(COPY_SEPARATOR)) {
      add(at, `state names cannot contain "${COPY_SEPARATOR}"`, 'it names the states of called sub-flows');
    }
    if (!isObject(state)) {
      add(at, 'a state must be an object');
      return;
    }
    unknownKeys(state, STATE_KEYS, at, add);
    const facts = stateFacts(state);
    const check: StateCheck = {
      state,
      at,
      subflow,
      stateKeys: STATE_KEYS,
      waits: facts.waits,
      acts: facts.acts,
      error: add,
      warn,
      template,
      condition,
      target: targetIn(ref, condition, add, warn),
      names: refNames,
    };
    for (const action of ACTIONS) action.validate?.(check);
    for (const action of ACTIONS) action.combine?.(check);
    if (!ACTIONS.some((action) => action.leaves?.(state) === true)) {
      add(at, 'dead end: the state has no way out', 'add "next", "on", "transfer", or "hangup": true');
    }
  };

  const checkSubflow = (subflow: string, def: unknown): void => {
    const at = `/subflows/${escapePointer(subflow)}`;
    if (!STATE_NAME.test(subflow)) {
      add(at, 'sub-flow names start with a letter and use letters, digits, "-" or "_"');
    }
    if (!isObject(def)) {
      add(at, 'a sub-flow must be an object: { "start": state, "states": {...} }');
      return;
    }
    unknownKeys(def, new Set(['start', 'states']), at, add);
    const own = def.states;
    if (!isObject(own) || Object.keys(own).length === 0) {
      add(`${at}/states`, 'states must be an object with at least one state');
      return;
    }
    const ownNames = new Set(Object.keys(own));
    const ownHints = nameHints(ownNames, `states of sub-flow "${subflow}"`);
    const ref = (pointer: string, name: unknown): void => {
      if (typeof name !== 'string') add(pointer, 'a target must be a state name');
      else if (name !== RETURN && !ownNames.has(name)) {
        add(
          pointer,
          `unknown state "${name}" in sub-flow "${subflow}"`,
          `a sub-flow leads to its own states, or to "${RETURN}"; ${ownHints(name)}`,
        );
      }
    };
    if (typeof def.start !== 'string') add(`${at}/start`, "start must name the sub-flow's first state");
    else if (!ownNames.has(def.start))
      add(`${at}/start`, `unknown state "${def.start}" in sub-flow "${subflow}"`, ownHints(def.start));
    for (const [name, state] of Object.entries(own)) {
      checkState(name, state, `${at}/states/${escapePointer(name)}`, ref, subflow);
    }
    if (!refNames.called.has(subflow)) {
      warn(
        at,
        `sub-flow "${subflow}" is never called`,
        `call it from a state: { "call": "${subflow}", "next": ... }`,
      );
    }
  };

  for (const [name, state] of Object.entries(states)) {
    checkState(name, state, `/states/${escapePointer(name)}`, stateRef, null);
  }
  for (const [subflow, def] of Object.entries(subflows)) {
    checkSubflow(subflow, def);
  }

  checkFlowOn(value.on, stateRef, add);
  for (const action of ACTIONS) action.validateFlowKeys?.(value, { error: add, template });
  checkPolicy(value.policy, stateRef, template, add);
  if (findings.some((f) => f.severity === 'error')) return { ok: false, findings };
  // The static checks assume the structure above; they only run on a flow that has it.
  const flow = value as unknown as FlowFile;
  const more = [...findings, ...expandedChecks(flow)];
  return more.some((f) => f.severity === 'error')
    ? { ok: false, findings: more }
    : { ok: true, flow, findings: more };
}
