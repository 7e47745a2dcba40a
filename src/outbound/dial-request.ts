/**
 * A request to place a call: who to call, from which number, which flow runs when they answer, and the
 * variables that flow reads (`{{call.vars.NAME}}`). Checked in full before anything is journaled or sent to
 * Twilio, each problem a DIAL_INVALID error naming its field; the values themselves (numbers, variables) are
 * personal data and stay out of the message.
 */
import { randomBytes } from 'node:crypto';
import { isE164 } from '../common/e164.ts';
import { SwitchboardError } from '../errors.ts';
import { VAR_NAME, flowVarNames, nameHints, type CompiledFlow } from '../flow/index.ts';

export interface DialRequest {
  /** The callee, E.164. */
  to: string;
  /** The caller id: a number of the Twilio account, E.164. */
  from: string;
  flow: string;
  vars: Record<string, string>;
  /** Names the dial: asking again with the same key never places a second call. */
  idempotencyKey: string;
}

/** What a dial request may leave out: the caller id falls back to the server's, the key to a new random one. */
export interface DialDefaults {
  flows: ReadonlyMap<string, CompiledFlow>;
  /** TWILIO_CALLER_ID: the caller id of a request without `from`; null when there is none. */
  from: string | null;
}

const KEY = /^[A-Za-z0-9_.:-]{1,100}$/;
export const MAX_VARS = 50;
export const MAX_VAR_CHARS = 1000;
const FIELDS = new Set(['to', 'from', 'flow', 'vars', 'idempotencyKey']);

/** A request body (parsed JSON) as a dial request; DIAL_INVALID, naming the field, for anything wrong with it. */
export function parseDialRequest(body: unknown, defaults: DialDefaults): DialRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('body', 'the request must be a JSON object: {"to": "+1555...", "flow": "NAME", ...}');
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).find((k) => !FIELDS.has(k));
  if (unknown !== undefined) {
    throw invalid(unknown, `unknown field "${unknown}"; fields: ${[...FIELDS].join(', ')}`);
  }
  const to = number(fields.to, 'to');
  const from =
    fields.from === undefined && defaults.from !== null ? defaults.from : number(fields.from, 'from');
  if (typeof fields.flow !== 'string' || fields.flow === '') throw invalid('flow', 'flow is required');
  const compiled = defaults.flows.get(fields.flow);
  if (compiled === undefined) {
    const hint = nameHints(new Set(defaults.flows.keys()), 'flows')(fields.flow);
    throw new SwitchboardError('FLOW_NOT_FOUND', `no flow "${fields.flow}" is loaded (${hint})`, {
      field: 'flow',
    });
  }
  const vars = readVars(fields.vars);
  const missing = flowVarNames(compiled.flow).filter((name) => !Object.hasOwn(vars, name));
  if (missing.length > 0) {
    throw invalid('vars', `flow "${fields.flow}" reads variables not given: ${missing.join(', ')}`, {
      missing,
    });
  }
  const key = fields.idempotencyKey ?? newKey();
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw invalid('idempotencyKey', 'idempotencyKey must be 1 to 100 letters, digits or _ . : -');
  }
  return { to, from, flow: fields.flow, vars, idempotencyKey: key };
}

/** A dial key from a callback's URL or a stream's parameters, or null when it cannot be one. */
export function dialKeyOf(value: string | null | undefined): string | null {
  return typeof value === 'string' && KEY.test(value) ? value : null;
}

/** A fresh idempotency key, for a request that brings none. */
export function newKey(): string {
  return randomBytes(12).toString('base64url');
}

function number(value: unknown, field: 'to' | 'from'): string {
  if (value === undefined) {
    const hint = field === 'from' ? ' (or set TWILIO_CALLER_ID)' : '';
    throw invalid(field, `${field} is required${hint}`);
  }
  if (typeof value !== 'string' || !isE164(value)) {
    throw invalid(
      field,
      `${field} is not a phone number in E.164 form (+ and 7 to 15 digits, e.g. +15551234567)`,
    );
  }
  return value;
}

function readVars(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('vars', 'vars must be an object of names to text values');
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_VARS) throw invalid('vars', `at most ${MAX_VARS} variables`);
  const vars: Record<string, string> = {};
  for (const [name, v] of entries) {
    if (!VAR_NAME.test(name)) {
      throw invalid('vars', `variable name "${name.slice(0, 40)}" must be letters, digits and _`);
    }
    if (typeof v !== 'string') throw invalid('vars', `variable "${name}" must be text`);
    if (v.length > MAX_VAR_CHARS) {
      throw invalid('vars', `variable "${name}" is over ${MAX_VAR_CHARS} characters`);
    }
    vars[name] = v;
  }
  return vars;
}

function invalid(field: string, detail: string, data: Record<string, unknown> = {}): SwitchboardError {
  return new SwitchboardError('DIAL_INVALID', detail, { field, ...data });
}
