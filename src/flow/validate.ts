/**
 * Structural checks of a flow file, each finding located by a JSON pointer so a person can fix it, followed by
 * the static checks of checks.ts once the structure holds. A flow that passes compiles to a machine without
 * further checks.
 */
import { BUILTIN_INTENTS } from '../nlu/builtin-intents.ts';
import { normalizeUtterance } from '../nlu/normalize.ts';
import { staticChecks } from './checks.ts';
import { parseCondition } from './conditions.ts';
import { COPY_SEPARATOR, expand, originalPointer, RETURN } from './subflows.ts';
import { nameHints } from './suggest.ts';
import { BUILTIN_ENTITY_NAMES, BUILTIN_INTENT_NAMES, DTMF_KEYS, type FlowFile } from './types.ts';
import { ENV_PREFIX, TEMPLATE_FILTERS, templateSlots } from './template.ts';

export interface Finding {
  /** Errors refuse the flow; warnings are reported and the flow still loads. */
  severity: 'error' | 'warning';
  /** JSON pointer into the flow file, e.g. `/states/confirm/on/dtmf:1`; `''` is the whole file. */
  pointer: string;
  message: string;
  hint?: string;
}

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
  'policy',
]);
const STATE_KEYS = new Set([
  'say',
  'ssml',
  'bargeIn',
  'endOfTurnMs',
  'set',
  'on',
  'collect',
  'next',
  'hangup',
  'noInputSay',
  'noMatchSay',
  'resumeSay',
  'http',
  'transfer',
  'onError',
  'call',
]);
/** What a calling state may hold besides `call`: it runs the sub-flow and does nothing else. */
const CALL_KEYS = new Set(['call', 'next', 'set']);
const HTTP_KEYS = new Set(['method', 'url', 'headers', 'body', 'timeoutMs', 'retries', 'map']);
const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
/** Methods whose body servers may drop or refuse, so a flow cannot rely on one being read. */
const BODILESS_METHODS = new Set(['GET', 'DELETE']);
const HEADER_NAME = /^[A-Za-z0-9-]+$/;
/** A template may supply the scheme (`{{env.ORDERS_URL}}/orders`); the runtime checks the rendered URL. */
export const URL_START = /^(https?:\/\/\S|\{\{)/;
/** An RFC 6901 pointer: empty (the whole answer) or `/`-separated segments where `~` is only `~0` or `~1`. */
export const JSON_POINTER = /^(\/([^~]|~[01])*)?$/;
export const E164 = /^\+[1-9]\d{6,14}$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const SSML_DOCUMENT = /^\s*<speak[\s>][\s\S]*<\/speak>\s*$/;
const COLLECT_KEYS = new Set(['slot', 'digits', 'entity', 'validate', 'invalidSay', 'confirm']);
const CHOICE_KEYS = new Set(['if', 'goto']);
const POLICY_KEYS = new Set([
  'noInputMs',
  'maxRetries',
  'fallback',
  'noInputSay',
  'noMatchSay',
  'supervisor',
  'speechFailover',
]);
const SPEECH_FAILOVER_KEYS = new Set(['after', 'hearing', 'say', 'keypadSay']);
const SUPERVISOR_KEYS = new Set(['maxRestarts', 'withinMs', 'onGiveUp']);
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const STATE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
/** Intent and entity names: no "-", so an intent name reads as one word in an "on" key. */
const INTENT_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const SLOT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CONDITION_HINT =
  'operands are slot names, "strings", numbers, true or false; operators: == != < <= > >= in not in && || !';

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
  const subflowHints = nameHints(new Set(Object.keys(subflows)), 'sub-flows');
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
    if (isObject(state.collect) && typeof state.collect.slot === 'string') collected.add(state.collect.slot);
    if (isObject(state.set)) for (const slot of Object.keys(state.set)) collected.add(slot);
    // Mapped slots are stored only on success; checks.ts tells whether every path to a read has one.
    if (isObject(state.http) && isObject(state.http.map)) {
      for (const slot of Object.keys(state.http.map)) collected.add(slot);
    }
  }
  const slotHints = nameHints(collected, 'slots');
  const slotHint = (slot: string): string | undefined => (collected.size > 0 ? slotHints(slot) : undefined);
  const template = (text: string, at: string): void => checkTemplate(text, at, collected, slotHint, add);
  const condition = (source: unknown, at: string): void =>
    checkCondition(source, at, collected, slotHint, add);
  const targetIn =
    (ref: (pointer: string, name: unknown) => void) =>
    (pointer: string, to: unknown): void => {
      if (typeof to === 'string') {
        ref(pointer, to);
        return;
      }
      if (!Array.isArray(to) || to.length === 0) {
        add(
          pointer,
          'a target must be a state name or a non-empty list of choices',
          'e.g. "menu", or [{ "if": "count > 2", "goto": "big" }, { "goto": "small" }]',
        );
        return;
      }
      let always = -1;
      to.forEach((choice: unknown, i) => {
        const p = `${pointer}/${i}`;
        if (!isObject(choice)) {
          add(p, 'a choice must be an object: { "if": condition, "goto": state }');
          return;
        }
        unknownKeys(choice, CHOICE_KEYS, p, add);
        if (choice.goto === undefined) add(p, 'a choice needs "goto": the state it leads to');
        else ref(`${p}/goto`, choice.goto);
        if (choice.if !== undefined) condition(choice.if, `${p}/if`);
        if (always >= 0) {
          warn(
            p,
            `choice ${i} is never taken: choice ${always} has no "if", so it always holds first`,
            'move the choice without "if" to the end of the list',
          );
        } else if (choice.if === undefined) always = i;
      });
    };
  const target = targetIn(stateRef);

  const intents = checkIntents(value.intents, stateRef, add, warn);
  const entities = checkEntities(value.entities, add, warn);
  const inputs = new Set([...BUILTIN_INTENT_NAMES, ...intents]);
  const intentHints = nameHints(inputs, 'intents');
  const entityHints = nameHints(entities, 'entities');

  const called = new Set<string>();
  // `subflow` is the sub-flow the state belongs to, null for the flow's own states.
  const checkState = (
    name: string,
    state: unknown,
    at: string,
    target: (pointer: string, to: unknown) => void,
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
    if (state.call !== undefined) {
      if (subflow !== null) {
        add(`${at}/call`, 'a sub-flow state cannot call a sub-flow', "call both from the flow's own states");
      } else if (typeof state.call !== 'string' || !Object.hasOwn(subflows, state.call)) {
        const hint = typeof state.call === 'string' ? subflowHints(state.call) : undefined;
        add(`${at}/call`, "call must name one of the flow's subflows", hint);
      } else called.add(state.call);
      if (state.next === undefined)
        add(at, 'a state that calls a sub-flow needs "next": where "$return" leads');
      for (const key of Object.keys(state)) {
        if (STATE_KEYS.has(key) && !CALL_KEYS.has(key)) {
          add(
            `${at}/${key}`,
            `a state that calls a sub-flow cannot have "${key}"`,
            'put it in a state of the sub-flow, or in a state its "next" leads to',
          );
        }
      }
    }
    if (state.bargeIn !== undefined && typeof state.bargeIn !== 'boolean' && state.bargeIn !== 'dtmf')
      add(`${at}/bargeIn`, 'bargeIn must be true, false or "dtmf"');
    if (
      state.endOfTurnMs !== undefined &&
      (typeof state.endOfTurnMs !== 'number' ||
        !Number.isInteger(state.endOfTurnMs) ||
        state.endOfTurnMs < 200 ||
        state.endOfTurnMs > 5000)
    )
      add(`${at}/endOfTurnMs`, 'endOfTurnMs must be a whole number of milliseconds from 200 to 5000');
    for (const key of ['say', 'resumeSay'] as const) {
      const text = state[key];
      if (text === undefined) continue;
      if (typeof text !== 'string' || text.trim() === '')
        add(`${at}/${key}`, `${key} must be non-empty text`);
      else template(text, `${at}/${key}`);
    }
    if (state.ssml !== undefined) {
      if (typeof state.ssml !== 'string' || !SSML_DOCUMENT.test(state.ssml)) {
        add(
          `${at}/ssml`,
          'ssml must be one <speak>...</speak> document',
          'e.g. "<speak>Hello <break time=\\"300ms\\"/> there</speak>"',
        );
      } else {
        const problem = ssmlProblem(state.ssml);
        if (problem !== null) add(`${at}/ssml`, `ssml is not well-formed: ${problem}`);
        else template(state.ssml, `${at}/ssml`);
      }
      if (state.say === undefined)
        add(`${at}/ssml`, 'ssml needs "say" too: the plain text for engines without SSML');
    }
    for (const key of ['noInputSay', 'noMatchSay'] as const) {
      if (state[key] !== undefined) checkRetryPrompt(state[key], `${at}/${key}`, key, true, template, add);
    }
    if (state.hangup !== undefined && typeof state.hangup !== 'boolean') {
      add(`${at}/hangup`, 'hangup must be true or false');
    }
    if (state.set !== undefined) {
      if (!isObject(state.set)) add(`${at}/set`, 'set must map slot names to values');
      else {
        for (const [slot, text] of Object.entries(state.set)) {
          const p = `${at}/set/${escapePointer(slot)}`;
          if (!SLOT_NAME.test(slot))
            add(p, 'a slot name is letters, digits and "_", not starting with a digit');
          // An empty value is allowed: it clears the slot.
          if (typeof text !== 'string') add(p, 'a slot value must be text (a template)');
          else template(text, p);
        }
      }
    }
    if (state.next !== undefined) target(`${at}/next`, state.next);

    if (state.on !== undefined) {
      if (!isObject(state.on)) add(`${at}/on`, 'on must map inputs to states');
      else {
        for (const [input, to] of Object.entries(state.on)) {
          const p = `${at}/on/${escapePointer(input)}`;
          if (input.startsWith('dtmf:')) {
            const key = input.slice('dtmf:'.length);
            if (key.length !== 1 || !DTMF_KEYS.includes(key)) {
              add(p, `unknown input "${input}"`, `keypad inputs are written "dtmf:1"; keys: ${DTMF_KEYS}`);
            }
          } else if (!inputs.has(input)) {
            add(
              p,
              `intent "${input}" is not defined`,
              `${intentHints(input)}; keypad inputs are written "dtmf:1"`,
            );
          }
          target(p, to);
        }
      }
    }

    if (state.collect !== undefined) {
      checkCollect(
        state.collect,
        `${at}/collect`,
        state.next,
        entities,
        entityHints,
        template,
        condition,
        add,
      );
    }
    if (state.collect !== undefined && state.on !== undefined) {
      add(at, 'a state either collects or branches with on, not both');
    }

    if (state.http !== undefined) checkHttp(state.http, `${at}/http`, template, add);
    if (state.transfer !== undefined) checkTransfer(state.transfer, `${at}/transfer`, template, add);
    const acts = state.http !== undefined || state.transfer !== undefined;
    if (state.onError !== undefined) {
      if (acts) target(`${at}/onError`, state.onError);
      else add(`${at}/onError`, 'onError applies only to a state with "http" or "transfer"');
    }

    // A mistyped hangup is reported above; calling it a dead end too would only repeat that. A state with
    // http but no next gets its own finding below.
    const badHangup = state.hangup !== undefined && typeof state.hangup !== 'boolean';
    const leaves =
      state.hangup === true || badHangup || state.next !== undefined || state.on !== undefined || acts;
    if (!leaves) {
      add(at, 'dead end: the state has no way out', 'add "next", "on", "transfer", or "hangup": true');
    }
    const waits = state.on !== undefined || state.collect !== undefined;
    if (state.hangup === true && waits && state.transfer === undefined) {
      add(`${at}/hangup`, 'a state that hangs up cannot also wait for input');
    }
    if (state.http !== undefined) {
      if (waits) add(`${at}/http`, 'a state that makes a web request cannot also wait for input');
      if (state.transfer !== undefined) {
        add(`${at}/transfer`, 'a state either makes a web request or transfers the call, not both');
      }
      if (state.hangup === true) {
        add(
          `${at}/hangup`,
          'a state that makes a web request cannot also hang up',
          'hang up in a state its "next" leads to',
        );
      }
      if (state.next === undefined) {
        add(`${at}/http`, 'a state that makes a web request needs "next": where to go when it succeeds');
      }
    }
    // With http as well, the transfer is refused above; its own rules would only add noise.
    if (state.transfer !== undefined && state.http === undefined) {
      if (waits) add(`${at}/transfer`, 'a state that transfers the call cannot also wait for input');
      // The caller leaves the flow, so nothing can follow; a failure goes to onError instead.
      if (state.next !== undefined) {
        add(
          `${at}/next`,
          'a state that transfers the call has no "next": the caller leaves the flow',
          'use "onError" for a failed transfer',
        );
      }
      if (state.hangup !== undefined) {
        add(`${at}/hangup`, 'a state that transfers the call does not hang up: the caller leaves the flow');
      }
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
    const subTarget = targetIn(ref);
    for (const [name, state] of Object.entries(own)) {
      checkState(name, state, `${at}/states/${escapePointer(name)}`, subTarget, subflow);
    }
    if (!called.has(subflow)) {
      warn(
        at,
        `sub-flow "${subflow}" is never called`,
        `call it from a state: { "call": "${subflow}", "next": ... }`,
      );
    }
  };

  for (const [name, state] of Object.entries(states)) {
    checkState(name, state, `/states/${escapePointer(name)}`, target, null);
  }
  for (const [subflow, def] of Object.entries(subflows)) {
    checkSubflow(subflow, def);
  }

  checkPolicy(value.policy, stateRef, template, add);
  if (findings.some((f) => f.severity === 'error')) return { ok: false, findings };
  // The static checks assume the structure above; they only run on a flow that has it.
  const flow = value as unknown as FlowFile;
  const more = [...findings, ...expandedChecks(flow)];
  return more.some((f) => f.severity === 'error')
    ? { ok: false, findings: more }
    : { ok: true, flow, findings: more };
}

/**
 * The static checks run on the flow as the machine runs it, sub-flows expanded; a finding about a copied state
 * points into the sub-flow and names the calling state.
 */
function expandedChecks(flow: FlowFile): Finding[] {
  const { flow: expanded, copies } = expand(flow);
  const out: Finding[] = [];
  const locate = (f: Finding): Finding => {
    const { pointer, origin } = originalPointer(f.pointer, copies);
    if (origin === null) return f;
    return finding(
      f.severity,
      pointer,
      `${f.message} (sub-flow "${origin.subflow}" called from "${origin.caller}")`,
      f.hint,
    );
  };
  // A merged condition joins two that parse, but may pass the limits on length, depth or operands.
  for (const [name, origin] of copies) {
    const def = expanded.states[name];
    for (const key of origin.merged) {
      const to =
        key === 'next'
          ? def?.next
          : key === 'onError'
            ? def?.onError
            : def?.on?.[unescapePointer(key.slice('on/'.length))];
      if (!Array.isArray(to)) continue;
      for (const choice of to) {
        const parsed = choice.if === undefined ? null : parseCondition(choice.if);
        if (parsed === null || parsed.ok) continue;
        out.push(
          locate(
            finding(
              'error',
              `/states/${escapePointer(name)}/${key}`,
              `joined with the conditions of "${origin.caller}"'s next, a condition is too large: ${parsed.message}`,
              "shorten the conditions, or return to a decision state that holds the caller's choices",
            ),
          ),
        );
        break;
      }
    }
  }
  return [...out, ...staticChecks(expanded).map(locate)];
}

/** Build a finding, leaving `hint` out when there is none. */
export function finding(
  severity: Finding['severity'],
  pointer: string,
  message: string,
  hint?: string,
): Finding {
  return hint === undefined ? { severity, pointer, message } : { severity, pointer, message, hint };
}

type Add = (pointer: string, message: string, hint?: string) => void;
type Check = (value: string, at: string) => void;

/** The flow's intent names that are well formed; every other finding about intents is reported here. */
function checkIntents(
  intents: unknown,
  stateRef: (pointer: string, name: unknown) => void,
  add: Add,
  warn: Add,
): string[] {
  if (intents === undefined) return [];
  if (!isObject(intents)) {
    add('/intents', 'intents must map intent names to { "examples": [...] }');
    return [];
  }
  const names: string[] = [];
  // Normalized example -> where it first appeared, so a second intent claiming it is caught.
  const seen = new Map<string, { intent: string; pointer: string }>();
  // Examples of the built-ins the flow keeps: the flow's intents are matched first and take them over.
  const builtin = new Map<string, string>();
  for (const [name, examples] of Object.entries(BUILTIN_INTENTS)) {
    if (Object.hasOwn(intents, name)) continue;
    for (const example of examples) builtin.set(normalizeUtterance(example), name);
  }
  for (const [name, def] of Object.entries(intents)) {
    const at = `/intents/${escapePointer(name)}`;
    if (!INTENT_NAME.test(name)) {
      add(at, 'intent names start with a letter and use letters, digits or "_" (at most 64)');
    } else names.push(name);
    if (!isObject(def)) {
      add(at, 'an intent must be an object: { "examples": [...] }');
      continue;
    }
    unknownKeys(def, new Set(['examples', 'global', 'confirm']), at, add);
    if (def.global !== undefined) stateRef(`${at}/global`, def.global);
    checkGlobalConfirm(def, at, add, warn);
    const examples = def.examples;
    if (!Array.isArray(examples) || examples.length === 0) {
      add(`${at}/examples`, 'examples must be a non-empty list of things a caller says', 'e.g. ["agent"]');
      continue;
    }
    examples.forEach((example: unknown, i) => {
      const p = `${at}/examples/${i}`;
      const key = typeof example === 'string' ? normalizeUtterance(example) : '';
      if (key === '') {
        add(p, 'an example must be text with at least one word');
        return;
      }
      const first = seen.get(key);
      const shadowed = builtin.get(key);
      if (first === undefined && shadowed !== undefined) {
        warn(
          p,
          `example "${example as string}" is also one of the built-in intent "${shadowed}"; "${name}" takes it`,
          `callers saying it no longer mean "${shadowed}"; define "${shadowed}" to choose its examples`,
        );
      }
      if (first === undefined) seen.set(key, { intent: name, pointer: p });
      else if (first.intent === name)
        warn(p, `example "${example as string}" is listed twice`, `first at ${first.pointer}`);
      else {
        add(
          p,
          `example "${example as string}" already belongs to intent "${first.intent}"`,
          `an utterance can mean one intent only; first at ${first.pointer}`,
        );
      }
    });
  }
  return names;
}

/** The entities a collect may name: the built-ins and the flow's; findings about the flow's are reported here. */
function checkEntities(entities: unknown, add: Add, warn: Add): Set<string> {
  const names = new Set<string>(BUILTIN_ENTITY_NAMES);
  if (entities === undefined) return names;
  if (!isObject(entities)) {
    add('/entities', 'entities must map entity names to { "values": {...} }');
    return names;
  }
  for (const [name, def] of Object.entries(entities)) {
    const at = `/entities/${escapePointer(name)}`;
    names.add(name);
    if (!INTENT_NAME.test(name)) {
      add(at, 'entity names start with a letter and use letters, digits or "_" (at most 64)');
    } else if ((BUILTIN_ENTITY_NAMES as readonly string[]).includes(name)) {
      add(
        at,
        `"${name}" is a built-in entity`,
        `pick another name; built-in: ${BUILTIN_ENTITY_NAMES.join(', ')}`,
      );
    }
    if (!isObject(def)) {
      add(at, 'an entity must be an object: { "values": {...} }');
      continue;
    }
    unknownKeys(def, new Set(['values']), at, add);
    const values = def.values;
    if (!isObject(values) || Object.keys(values).length === 0) {
      add(
        `${at}/values`,
        'values must map at least one canonical value to its synonyms',
        'e.g. { "large": ["big"], "small": [] }',
      );
      continue;
    }
    // A canonical value is heard as itself too, so it takes part in the duplicate check.
    const seen = new Map<string, { value: string; pointer: string }>();
    const phrase = (text: string, value: string, p: string): void => {
      const key = normalizeUtterance(text);
      if (key === '') {
        add(p, 'a value or synonym must be text with at least one word');
        return;
      }
      const first = seen.get(key);
      if (first === undefined) seen.set(key, { value, pointer: p });
      else if (first.value === value)
        warn(p, `"${text}" is listed twice for "${value}"`, `first at ${first.pointer}`);
      else
        add(
          p,
          `"${text}" already means "${first.value}"`,
          `a word can name one value only; first at ${first.pointer}`,
        );
    };
    for (const [value, synonyms] of Object.entries(values)) {
      const p = `${at}/values/${escapePointer(value)}`;
      phrase(value, value, p);
      if (!Array.isArray(synonyms)) {
        add(
          p,
          'a value maps to a list of synonyms (it may be empty)',
          'e.g. "large": ["big", "family size"]',
        );
        continue;
      }
      synonyms.forEach((synonym: unknown, i) => {
        if (typeof synonym !== 'string') add(`${p}/${i}`, 'a synonym must be text');
        else phrase(synonym, value, `${p}/${i}`);
      });
    }
  }
  return names;
}

function checkCollect(
  collect: unknown,
  at: string,
  next: unknown,
  entities: Set<string>,
  entityHints: (unknown: string) => string,
  template: Check,
  condition: (source: unknown, at: string) => void,
  add: Add,
): void {
  if (!isObject(collect)) {
    add(at, 'collect must be an object');
    return;
  }
  unknownKeys(collect, COLLECT_KEYS, at, add);
  if (typeof collect.slot !== 'string' || !SLOT_NAME.test(collect.slot)) {
    add(`${at}/slot`, 'slot must be a name of letters, digits and "_"');
  }
  if (next === undefined) add(at, 'a state that collects needs "next"');
  if (collect.digits === undefined && collect.entity === undefined) {
    add(
      at,
      'collect needs "digits" (keypad), "entity" (speech), or both',
      'e.g. "entity": "number", "digits": { "max": 2 }',
    );
  }
  if (collect.entity !== undefined) {
    if (typeof collect.entity !== 'string') add(`${at}/entity`, 'entity must be the name of an entity');
    else if (!entities.has(collect.entity)) {
      add(`${at}/entity`, `entity "${collect.entity}" is not defined`, entityHints(collect.entity));
    }
  }
  if (collect.validate !== undefined) condition(collect.validate, `${at}/validate`);
  for (const key of ['invalidSay', 'confirm'] as const) {
    const text = collect[key];
    if (text === undefined) continue;
    if (typeof text !== 'string' || text.trim() === '') add(`${at}/${key}`, `${key} must be non-empty text`);
    else template(text, `${at}/${key}`);
  }
  if (collect.digits !== undefined) checkDigits(collect.digits, `${at}/digits`, add);
}

function checkDigits(digits: unknown, at: string, add: Add): void {
  if (!isObject(digits)) {
    add(at, 'digits must be an object', 'e.g. { "max": 10, "terminator": "#" }');
    return;
  }
  unknownKeys(digits, new Set(['max', 'min', 'terminator']), at, add);
  const { max, min, terminator } = digits;
  const isCount = (n: unknown): n is number =>
    Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 64;
  if (max !== undefined && !isCount(max)) add(`${at}/max`, 'max must be an integer from 1 to 64');
  if (min !== undefined && !isCount(min)) add(`${at}/min`, 'min must be an integer from 1 to 64');
  if (isCount(max) && isCount(min) && min > max) add(`${at}/min`, 'min is greater than max');
  if (terminator !== undefined && (typeof terminator !== 'string' || !/^[*#]$/.test(terminator))) {
    add(`${at}/terminator`, 'terminator must be "#" or "*"');
  }
  if (max === undefined && terminator === undefined) {
    add(at, 'digits need "max", "terminator", or both, or the entry never ends');
  }
}

/** An intent's `confirm`: plain text, asked only for a global intent. */
function checkGlobalConfirm(def: Record<string, unknown>, at: string, add: Add, warn: Add): void {
  const confirm = def.confirm;
  if (confirm === undefined) return;
  if (typeof confirm !== 'string' || confirm.trim() === '')
    add(`${at}/confirm`, 'confirm must be non-empty text');
  else if (confirm.includes('{{'))
    add(`${at}/confirm`, 'confirm is plain text: templates are not filled in here', 'ask without {{...}}');
  else if (def.global === undefined)
    warn(`${at}/confirm`, 'confirm is asked only for a global intent', 'add "global", or remove "confirm"');
}

/**
 * A retry apology: text, or a list that escalates. A state's apologies must say something; the policy's may be
 * empty, and then a retry repeats the prompt with no apology before it.
 */
function checkRetryPrompt(
  value: unknown,
  at: string,
  key: string,
  nonEmpty: boolean,
  template: Check,
  add: Add,
): void {
  const one = (text: unknown, p: string): void => {
    if (typeof text !== 'string') add(p, `${key} must be text or a list of texts`);
    else if (nonEmpty && text.trim() === '') add(p, `${key} must be non-empty text`);
    else template(text, p);
  };
  if (!Array.isArray(value)) one(value, at);
  else if (value.length === 0) add(at, `${key} must not be an empty list`, 'leave it out to use the default');
  else value.forEach((text: unknown, i) => one(text, `${at}/${i}`));
}

function checkPolicy(
  policy: unknown,
  stateRef: (p: string, n: unknown) => void,
  template: Check,
  add: Add,
): void {
  if (policy === undefined) return;
  if (!isObject(policy)) {
    add('/policy', 'policy must be an object');
    return;
  }
  unknownKeys(policy, POLICY_KEYS, '/policy', add);
  if (policy.noInputMs !== undefined && !isPositiveInt(policy.noInputMs, 1000, 120_000)) {
    add('/policy/noInputMs', 'noInputMs must be an integer from 1000 to 120000');
  }
  if (policy.maxRetries !== undefined && !isPositiveInt(policy.maxRetries, 0, 10)) {
    add('/policy/maxRetries', 'maxRetries must be an integer from 0 to 10');
  }
  if (policy.fallback !== undefined) stateRef('/policy/fallback', policy.fallback);
  for (const key of ['noInputSay', 'noMatchSay'] as const) {
    if (policy[key] !== undefined) checkRetryPrompt(policy[key], `/policy/${key}`, key, false, template, add);
  }
  const sup = policy.supervisor;
  if (sup !== undefined) {
    if (!isObject(sup)) add('/policy/supervisor', 'supervisor must be an object');
    else {
      unknownKeys(sup, SUPERVISOR_KEYS, '/policy/supervisor', add);
      if (sup.maxRestarts !== undefined && !isPositiveInt(sup.maxRestarts, 0, 100)) {
        add('/policy/supervisor/maxRestarts', 'maxRestarts must be an integer from 0 to 100');
      }
      if (sup.withinMs !== undefined && !isPositiveInt(sup.withinMs, 1, 86_400_000)) {
        add('/policy/supervisor/withinMs', 'withinMs must be a positive integer');
      }
      if (sup.onGiveUp !== undefined) stateRef('/policy/supervisor/onGiveUp', sup.onGiveUp);
    }
  }
  checkSpeechFailover(policy.speechFailover, template, add);
}

function checkSpeechFailover(rule: unknown, template: Check, add: Add): void {
  const at = '/policy/speechFailover';
  if (rule === undefined) return;
  if (!isObject(rule)) {
    add(at, 'speechFailover must be an object');
    return;
  }
  unknownKeys(rule, SPEECH_FAILOVER_KEYS, at, add);
  if (rule.after !== undefined && !isPositiveInt(rule.after, 1, 10)) {
    add(`${at}/after`, 'after must be an integer from 1 to 10');
  }
  if (rule.hearing !== undefined && rule.hearing !== 'embedded' && rule.hearing !== 'dtmf') {
    add(`${at}/hearing`, 'hearing must be "embedded" or "dtmf"');
  }
  for (const key of ['say', 'keypadSay'] as const) {
    const text = rule[key];
    if (text === undefined) continue;
    if (typeof text !== 'string') add(`${at}/${key}`, `${key} must be text`);
    // An empty keypadSay would switch a caller to the keypad without telling them.
    else if (key === 'keypadSay' && text.trim() === '') add(`${at}/${key}`, 'keypadSay must say something');
    else template(text, `${at}/${key}`);
  }
}

function checkTemplate(
  text: string,
  at: string,
  collected: Set<string>,
  slotHint: (slot: string) => string | undefined,
  add: Add,
): void {
  for (const { name, filter } of templateSlots(text)) {
    if (name.startsWith(ENV_PREFIX)) {
      const variable = name.slice(ENV_PREFIX.length);
      if (!ENV_NAME.test(variable)) {
        add(
          at,
          `"{{${name}}}" is not an environment variable name`,
          'environment variables are upper case letters, digits and "_", e.g. {{env.ORDERS_URL}}',
        );
      }
    } else if (!collected.has(name)) {
      add(at, `template uses slot "${name}", which no state collects or sets`, slotHint(name));
    }
    if (filter !== undefined && !(TEMPLATE_FILTERS as readonly string[]).includes(filter)) {
      add(at, `unknown template filter "${filter}"`, `filters: ${TEMPLATE_FILTERS.join(', ')}`);
    }
  }
}

function checkHttp(http: unknown, at: string, template: Check, add: Add): void {
  if (!isObject(http)) {
    add(at, 'http must be an object', 'e.g. { "method": "GET", "url": "{{env.ORDERS_URL}}/status" }');
    return;
  }
  unknownKeys(http, HTTP_KEYS, at, add);
  const method = http.method === undefined ? 'POST' : http.method;
  if (typeof method !== 'string' || !HTTP_METHODS.includes(method)) {
    add(`${at}/method`, `method must be one of ${HTTP_METHODS.join(', ')}`);
  }
  const url = http.url;
  if (typeof url !== 'string' || url.trim() === '') {
    add(`${at}/url`, 'http needs "url": non-empty text', 'e.g. "https://api.example.com/orders"');
  } else if (!URL_START.test(url)) {
    add(
      `${at}/url`,
      'url must start with "http://" or "https://", or with a template such as {{env.ORDERS_URL}}',
    );
  } else template(url, `${at}/url`);

  const headers = http.headers;
  if (headers !== undefined) {
    if (!isObject(headers)) add(`${at}/headers`, 'headers must map header names to values');
    else {
      const seen = new Map<string, string>();
      for (const [name, value] of Object.entries(headers)) {
        const p = `${at}/headers/${escapePointer(name)}`;
        const lower = name.toLowerCase();
        if (!HEADER_NAME.test(name)) add(p, 'a header name is letters, digits and "-"');
        else if (lower === 'idempotency-key') {
          add(p, 'Idempotency-Key is set by Switchboard', 'it is the same for every retry of the request');
        } else if (seen.has(lower)) {
          add(p, `header "${name}" is also given as "${seen.get(lower) ?? ''}"`, 'header names ignore case');
        }
        seen.set(lower, name);
        if (typeof value !== 'string') add(p, 'a header value must be text (a template)');
        else template(value, p);
      }
    }
  }

  const body = http.body;
  if (body !== undefined) {
    if (!isObject(body)) add(`${at}/body`, 'body must be a JSON object');
    else {
      if (typeof method === 'string' && BODILESS_METHODS.has(method)) {
        add(
          `${at}/body`,
          `a ${method} request has no body`,
          'use POST, PUT or PATCH, or put values in the url',
        );
      }
      // Iterative: a body nested thousands deep must not overflow the stack.
      const stack: [unknown, string][] = [[body, `${at}/body`]];
      for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
        const [value, p] = item;
        if (typeof value === 'string') template(value, p);
        else if (Array.isArray(value)) value.forEach((v: unknown, i) => stack.push([v, `${p}/${i}`]));
        else if (isObject(value)) {
          for (const [k, v] of Object.entries(value)) stack.push([v, `${p}/${escapePointer(k)}`]);
        }
      }
    }
  }
  if (http.timeoutMs !== undefined && !isPositiveInt(http.timeoutMs, 100, 30_000)) {
    add(`${at}/timeoutMs`, 'timeoutMs must be an integer from 100 to 30000');
  }
  if (http.retries !== undefined && !isPositiveInt(http.retries, 0, 5)) {
    add(`${at}/retries`, 'retries must be an integer from 0 to 5');
  }
  const map = http.map;
  if (map !== undefined) {
    if (!isObject(map))
      add(`${at}/map`, 'map must map slot names to JSON pointers', 'e.g. { "eta": "/minutes" }');
    else {
      for (const [slot, pointer] of Object.entries(map)) {
        const p = `${at}/map/${escapePointer(slot)}`;
        if (!SLOT_NAME.test(slot))
          add(p, 'a slot name is letters, digits and "_", not starting with a digit');
        if (typeof pointer !== 'string' || !JSON_POINTER.test(pointer)) {
          add(
            p,
            'a slot maps to a JSON pointer into the answer: "" or starting with "/"',
            'e.g. "/order/id"; write "~1" for "/" and "~0" for "~" inside a name',
          );
        }
      }
    }
  }
}

function checkTransfer(to: unknown, at: string, template: Check, add: Add): void {
  if (typeof to !== 'string' || to.trim() === '') {
    add(at, 'transfer must be a phone number or a template', 'e.g. "+15555550100" or "{{env.SUPPORT_LINE}}"');
    return;
  }
  if (templateSlots(to).length > 0) template(to, at);
  else if (!E164.test(to)) {
    add(
      at,
      'transfer must be an E.164 number: "+", the country code and the number, no spaces',
      'e.g. "+15555550100"',
    );
  }
}

function checkCondition(
  source: unknown,
  at: string,
  collected: Set<string>,
  slotHint: (slot: string) => string | undefined,
  add: Add,
): void {
  if (typeof source !== 'string' || source.trim() === '') {
    add(at, 'a condition must be non-empty text', 'e.g. count >= 2 && size == "large"');
    return;
  }
  const parsed = parseCondition(source);
  if (!parsed.ok) {
    const rest = source.slice(parsed.offset);
    const near =
      rest.trim() === '' ? 'the condition ends there' : `from there it reads: ${rest.slice(0, 24)}`;
    add(at, `invalid condition at offset ${parsed.offset}: ${parsed.message}`, `${near}; ${CONDITION_HINT}`);
    return;
  }
  for (const slot of new Set(parsed.value.slots)) {
    if (!collected.has(slot)) {
      add(at, `condition uses slot "${slot}", which no state collects or sets`, slotHint(slot));
    }
  }
}

function unknownKeys(obj: Record<string, unknown>, allowed: Set<string>, at: string, add: Add): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key))
      add(`${at}/${escapePointer(key)}`, `unknown property "${key}"`, `allowed: ${[...allowed].join(', ')}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPositiveInt(v: unknown, min: number, max: number): boolean {
  return Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
}

function unescapePointer(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

/** RFC 6901 escaping of one pointer segment. */
export function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

/**
 * Why `ssml` is not well-formed XML as far as a prompt needs (tags balanced and properly nested, no stray `<` or
 * `&`), or null. Templates are left in: their values are escaped when rendered.
 */
function ssmlProblem(ssml: string): string | null {
  const open: string[] = [];
  const token =
    /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|<|&(?![a-z]+;|#\d+;|#x[0-9a-fA-F]+;)/g;
  for (const m of ssml.matchAll(token)) {
    if (m[2] === undefined)
      return m[0] === '<'
        ? `a "<" that starts no tag at offset ${m.index}`
        : `a bare "&" at offset ${m.index} (write &amp;)`;
    if (m[4] === '/') continue;
    if (m[1] === '/') {
      const expected = open.pop();
      if (expected !== m[2])
        return `</${m[2]}> at offset ${m.index} closes ${expected ? `<${expected}>` : 'nothing'}`;
    } else open.push(m[2]);
  }
  return open.length === 0 ? null : `<${open.at(-1)}> is never closed`;
}
