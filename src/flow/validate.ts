/**
 * Structural checks of a flow file, each finding located by a JSON pointer so a person can fix it, followed by
 * the static checks of checks.ts once the structure holds. A flow that passes compiles to a machine without
 * further checks.
 */
import { staticChecks } from './checks.ts';
import { DTMF_KEYS, type FlowFile } from './types.ts';
import { TEMPLATE_FILTERS, templateSlots } from './template.ts';

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

const ROOT_KEYS = new Set(['$schema', 'id', 'version', 'language', 'voice', 'start', 'states', 'policy']);
const STATE_KEYS = new Set(['say', 'on', 'collect', 'next', 'hangup', 'noInputSay', 'noMatchSay']);
const POLICY_KEYS = new Set([
  'noInputMs',
  'maxRetries',
  'fallback',
  'noInputSay',
  'noMatchSay',
  'supervisor',
]);
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const STATE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** Check a parsed flow file; on success the value is typed as a FlowFile. */
export function validateFlow(value: unknown): ValidationResult {
  const findings: Finding[] = [];
  const add = (pointer: string, message: string, hint?: string): void => {
    findings.push(finding('error', pointer, message, hint));
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
  const hints = stateHints(names);
  const target = (pointer: string, name: unknown): void => {
    if (typeof name !== 'string') add(pointer, 'a target must be a state name');
    else if (!names.has(name)) add(pointer, `unknown state "${name}"`, hints(name));
  };

  if (typeof value.start !== 'string') add('/start', 'start must name the first state');
  else target('/start', value.start);

  const collected = new Set<string>();
  for (const state of Object.values(states)) {
    if (isObject(state) && isObject(state.collect) && typeof state.collect.slot === 'string') {
      collected.add(state.collect.slot);
    }
  }

  for (const [name, state] of Object.entries(states)) {
    const at = `/states/${escapePointer(name)}`;
    if (!STATE_NAME.test(name))
      add(at, 'state names start with a letter and use letters, digits, "-" or "_"');
    if (!isObject(state)) {
      add(at, 'a state must be an object');
      continue;
    }
    unknownKeys(state, STATE_KEYS, at, add);
    for (const key of ['say', 'noInputSay', 'noMatchSay'] as const) {
      const text = state[key];
      if (text === undefined) continue;
      if (typeof text !== 'string' || text.trim() === '')
        add(`${at}/${key}`, `${key} must be non-empty text`);
      else checkTemplate(text, `${at}/${key}`, collected, add);
    }
    if (state.hangup !== undefined && typeof state.hangup !== 'boolean') {
      add(`${at}/hangup`, 'hangup must be true or false');
    }
    if (state.next !== undefined) target(`${at}/next`, state.next);

    if (state.on !== undefined) {
      if (!isObject(state.on)) add(`${at}/on`, 'on must map inputs to states');
      else {
        for (const [input, to] of Object.entries(state.on)) {
          const p = `${at}/on/${escapePointer(input)}`;
          const m = /^dtmf:(.)$/.exec(input);
          if (!m?.[1] || !DTMF_KEYS.includes(m[1])) {
            add(p, `unknown input "${input}"`, `keypad inputs are written "dtmf:1"; keys: ${DTMF_KEYS}`);
          }
          target(p, to);
        }
      }
    }

    if (state.collect !== undefined) checkCollect(state.collect, `${at}/collect`, state.next, add);
    if (state.collect !== undefined && state.on !== undefined) {
      add(at, 'a state either collects digits or branches with on, not both');
    }

    // A mistyped hangup is reported above; calling it a dead end too would only repeat that.
    const badHangup = state.hangup !== undefined && typeof state.hangup !== 'boolean';
    const leaves = state.hangup === true || badHangup || state.next !== undefined || state.on !== undefined;
    if (!leaves) {
      add(at, 'dead end: the state has no way out', 'add "next", "on", or "hangup": true');
    }
    if (state.hangup === true && (state.on !== undefined || state.collect !== undefined)) {
      add(`${at}/hangup`, 'a state that hangs up cannot also wait for input');
    }
  }

  checkPolicy(value.policy, names, collected, target, add);
  if (findings.length > 0) return { ok: false, findings };
  // The static checks assume the structure above; they only run on a flow that has it.
  const flow = value as unknown as FlowFile;
  const more = staticChecks(flow);
  return more.some((f) => f.severity === 'error')
    ? { ok: false, findings: more }
    : { ok: true, flow, findings: more };
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

const LISTED_STATES = 10;
// Suggestions compare the name with every state; bounded so a huge broken flow stays fast to check.
const SUGGEST_MAX_STATES = 1000;
const SUGGEST_MAX_TIMES = 50;

/** Hint for an unknown state name: the closest known name, and a short list of known states. */
function stateHints(names: Set<string>): (unknown: string) => string {
  const list = [...names];
  const shown = list.slice(0, LISTED_STATES).join(', ');
  const known = list.length > LISTED_STATES ? `${shown}, ... (${list.length} states)` : shown;
  let suggested = 0;
  return (unknown) => {
    if (list.length > SUGGEST_MAX_STATES || suggested >= SUGGEST_MAX_TIMES) return `known states: ${known}`;
    suggested += 1;
    let best: string | undefined;
    let bestDistance = Math.min(2, Math.floor(unknown.length / 2));
    for (const name of list) {
      const d = editDistance(unknown, name, bestDistance);
      if (d <= bestDistance && (best === undefined || d < bestDistance)) {
        best = name;
        bestDistance = d;
      }
    }
    return best === undefined ? `known states: ${known}` : `did you mean "${best}"? known states: ${known}`;
  };
}

/** Levenshtein distance, or `limit + 1` once it is certainly above `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const v = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      row.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin > limit) return limit + 1;
    prev = row;
  }
  return prev[b.length] ?? limit + 1;
}

type Add = (pointer: string, message: string, hint?: string) => void;

function checkCollect(collect: unknown, at: string, next: unknown, add: Add): void {
  if (!isObject(collect)) {
    add(at, 'collect must be an object');
    return;
  }
  unknownKeys(collect, new Set(['slot', 'digits']), at, add);
  if (typeof collect.slot !== 'string' || !/^[A-Za-z_]\w*$/.test(collect.slot)) {
    add(`${at}/slot`, 'slot must be a name of letters, digits and "_"');
  }
  if (next === undefined) add(at, 'a state that collects needs "next"');
  const digits = collect.digits;
  if (!isObject(digits)) {
    add(`${at}/digits`, 'digits must be an object', 'e.g. { "max": 10, "terminator": "#" }');
    return;
  }
  unknownKeys(digits, new Set(['max', 'min', 'terminator']), `${at}/digits`, add);
  const { max, min, terminator } = digits;
  const isCount = (n: unknown): n is number =>
    Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 64;
  if (max !== undefined && !isCount(max)) add(`${at}/digits/max`, 'max must be an integer from 1 to 64');
  if (min !== undefined && !isCount(min)) add(`${at}/digits/min`, 'min must be an integer from 1 to 64');
  if (isCount(max) && isCount(min) && min > max) add(`${at}/digits/min`, 'min is greater than max');
  if (terminator !== undefined && (typeof terminator !== 'string' || !/^[*#]$/.test(terminator))) {
    add(`${at}/digits/terminator`, 'terminator must be "#" or "*"');
  }
  if (max === undefined && terminator === undefined) {
    add(`${at}/digits`, 'digits need "max", "terminator", or both, or the entry never ends');
  }
}

function checkPolicy(
  policy: unknown,
  names: Set<string>,
  collected: Set<string>,
  target: (p: string, n: unknown) => void,
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
  if (policy.fallback !== undefined && names.size > 0) target('/policy/fallback', policy.fallback);
  for (const key of ['noInputSay', 'noMatchSay'] as const) {
    const text = policy[key];
    if (text === undefined) continue;
    // May be empty: then a retry repeats the state's prompt with no apology before it.
    if (typeof text !== 'string') add(`/policy/${key}`, `${key} must be text`);
    else checkTemplate(text, `/policy/${key}`, collected, add);
  }
  const sup = policy.supervisor;
  if (sup !== undefined) {
    if (!isObject(sup)) add('/policy/supervisor', 'supervisor must be an object');
    else {
      unknownKeys(sup, new Set(['maxRestarts', 'withinMs']), '/policy/supervisor', add);
      if (sup.maxRestarts !== undefined && !isPositiveInt(sup.maxRestarts, 0, 100)) {
        add('/policy/supervisor/maxRestarts', 'maxRestarts must be an integer from 0 to 100');
      }
      if (sup.withinMs !== undefined && !isPositiveInt(sup.withinMs, 1, 86_400_000)) {
        add('/policy/supervisor/withinMs', 'withinMs must be a positive integer');
      }
    }
  }
}

function checkTemplate(text: string, at: string, collected: Set<string>, add: Add): void {
  for (const { name, filter } of templateSlots(text)) {
    if (!collected.has(name)) add(at, `template uses slot "${name}", which no state collects`);
    if (filter !== undefined && !(TEMPLATE_FILTERS as readonly string[]).includes(filter)) {
      add(at, `unknown template filter "${filter}"`, `filters: ${TEMPLATE_FILTERS.join(', ')}`);
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

/** RFC 6901 escaping of one pointer segment. */
export function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}
