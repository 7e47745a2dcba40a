/**
 * `collect`: a slot from the keypad (`digits`), from speech (`entity`), or both, optionally checked (`validate`,
 * `invalidSay`) and read back for a yes or no (`confirm`) before the state takes its `next`.
 */
import { BUILTIN_ENTITIES, entityFromDtmf, type BuiltinEntity } from '../../nlu/entities/index.ts';
import { evaluateCondition } from '../conditions.ts';
import type { CallContext, CallEvent } from '../events.ts';
import { IGNORE, leaveOnInput, retry, stay, type Route, type RoutingTable } from '../routing.ts';
import type { StateDef } from '../types.ts';
import { isObject, unknownKeys, type Add } from '../validate/finding.ts';
import type { FlowAction, StateCheck } from './action.ts';
import { SLOT_NAME } from './set.ts';
import type { CollectDef, DigitsDef } from './format/collect.ts';
export type { CollectFields, CollectDef, DigitsDef } from './format/collect.ts';

const COLLECT_KEYS = new Set(['slot', 'digits', 'entity', 'validate', 'invalidSay', 'confirm']);
type Utterance = Extract<CallEvent, { type: 'utterance' }>;

export const collect: FlowAction = {
  name: 'collect',
  keys: ['collect'],
  events: ['dtmf', 'utterance', 'timer'],
  example: {
    say: 'How many pizzas?',
    collect: { slot: 'count', entity: 'number', digits: { max: 2 }, validate: 'count >= 1 && count <= 10' },
    next: 'size',
  },

  schema: ({ def }) => {
    def('CollectDef').anyOf = [{ required: ['digits'] }, { required: ['entity'] }];
    def('DigitsDef').anyOf = [{ required: ['max'] }, { required: ['terminator'] }];
    return {
      requires: { collect: ['next'] },
      state: [
        {
          description: 'A state either collects or branches with "on", not both.',
          not: { required: ['collect', 'on'] },
        },
      ],
    };
  },

  waits: (def) => def.collect !== undefined,
  collects: (def) => def.collect !== undefined,
  expects: (def) => {
    const c = def.collect;
    if (c === undefined) return {};
    return {
      ...(c.entity === undefined ? {} : { entity: c.entity }),
      ...(c.digits ? { digits: c.digits } : {}),
    };
  },

  validate(check) {
    if (check.state.collect !== undefined) checkCollect(check);
  },

  combine({ state, at, error }) {
    if (state.collect !== undefined && state.on !== undefined)
      error(at, 'a state either collects or branches with on, not both');
  },

  stores: (state) =>
    isObject(state.collect) && typeof state.collect.slot === 'string' ? [state.collect.slot] : [],

  reads(def, at) {
    const c = def.collect;
    if (!c) return [];
    return [
      { pointer: `${at}/collect/validate`, condition: c.validate, moment: 'after', spoken: false },
      { pointer: `${at}/collect/confirm`, text: c.confirm, moment: 'after', spoken: true },
      { pointer: `${at}/collect/invalidSay`, text: c.invalidSay, moment: 'after', spoken: true },
    ];
  },

  conditions: (def) => [def.collect?.validate],

  route({ table, def, ctx, event }) {
    const c = def.collect;
    switch (event.type) {
      case 'timer':
        // A digit entry that stopped without its terminator is complete once long enough.
        if (event.id !== ctx.timer) return undefined;
        if (c?.digits && !ctx.confirming && ctx.digits.length >= Math.max(1, c.digits.min ?? 1))
          return keyed(table, def, c, ctx, ctx.digits);
        return undefined;
      case 'dtmf':
        if (ctx.confirming) {
          if (event.digit === '1') return confirmed(table, def, ctx);
          if (event.digit === '2' && c) return stay({ kind: 'reask', slot: c.slot });
          return retry(table, ctx, 'noMatch');
        }
        return c?.digits ? routeKey(table, def, c, c.digits, ctx, event.digit) : undefined;
      case 'utterance': {
        if (ctx.confirming) {
          if (saidYes(event)) return confirmed(table, def, ctx);
          if (saidNo(event) && c) return stay({ kind: 'reask', slot: c.slot });
          if (event.intent === 'repeat') return stay({ kind: 'repeat' });
          return retry(table, ctx, 'noMatch');
        }
        const value = c?.entity === undefined ? undefined : event.entities[c.entity];
        return c && value !== undefined ? collected(table, def, c, ctx, value) : undefined;
      }
      default:
        return undefined;
    }
  },

  prompt(def, confirming) {
    const confirm = def.collect?.confirm;
    return confirming && confirm !== undefined ? { text: confirm } : undefined;
  },

  apology(def, retry, step) {
    const invalidSay = def.collect?.invalidSay;
    if (retry.reason !== 'invalid' || invalidSay === undefined) return undefined;
    // The slot keeps no refused value, but its apology may read back what was heard.
    return step.render(invalidSay, { ...step.slots, [retry.slot]: retry.value });
  },

  notes: (def) => (def.collect ? describeCollect(def.collect) : []),
};

function routeKey(
  table: RoutingTable,
  def: StateDef,
  c: CollectDef,
  digits: DigitsDef,
  ctx: CallContext,
  digit: string,
): Route {
  if (digit === digits.terminator) {
    if (ctx.digits === '') return retry(table, ctx, 'noMatch');
    // Too few keys is a value that breaks the entry's rule: the caller hears what they typed.
    if (ctx.digits.length < (digits.min ?? 1)) return retry(table, ctx, { slot: c.slot, value: ctx.digits });
    return keyed(table, def, c, ctx, ctx.digits);
  }
  const entry = ctx.digits + digit;
  if (digits.max !== undefined && entry.length >= digits.max) return keyed(table, def, c, ctx, entry);
  return stay({ kind: 'digit', digit });
}

/**
 * A complete keypad entry for `collect`: as typed without an entity; for a flow entity, the value whose name or
 * synonym is exactly the keys (so `"large": ["3"]` lets a caller press 3); for a built-in one, its keypad reading
 * (a date as YYYYMMDD, 1 for yes). Keys that mean nothing there are a no-match.
 */
function keyed(table: RoutingTable, def: StateDef, c: CollectDef, ctx: CallContext, keys: string): Route {
  const entity = c.entity;
  let value: string | null = keys;
  if (entity !== undefined) {
    const custom = table.flow.entities?.[entity];
    if (custom) {
      const match = Object.entries(custom.values).find(
        ([name, synonyms]) => name === keys || synonyms.includes(keys),
      );
      value = match?.[0] ?? null;
    } else if (isBuiltinEntity(entity)) value = entityFromDtmf(entity, keys);
  }
  return value === null ? retry(table, ctx, 'noMatch') : collected(table, def, c, ctx, value);
}

function isBuiltinEntity(name: string): name is BuiltinEntity {
  return (BUILTIN_ENTITIES as readonly string[]).includes(name);
}

/** A value was entered or said for `collect`: check it, then confirm it or move on. */
function collected(
  table: RoutingTable,
  def: StateDef,
  c: CollectDef,
  ctx: CallContext,
  value: string,
): Route {
  const slots = { ...ctx.slots, [c.slot]: value };
  const invalid = (): Route => retry(table, ctx, { slot: c.slot, value });
  if (!withinLength(c, value)) return invalid();
  if (c.validate !== undefined) {
    const condition = table.conditions.get(c.validate);
    if (condition && !evaluateCondition(condition, slots, ctx.call)) return invalid();
  }
  if (c.confirm !== undefined) return stay({ kind: 'confirm', slot: c.slot, value });
  if (def.next === undefined) return IGNORE;
  return leaveOnInput(table, ctx, def.next, slots, { [c.slot]: value });
}

/** The caller said yes to the read-back: the slot already holds the value. */
function confirmed(table: RoutingTable, def: StateDef, ctx: CallContext): Route {
  if (def.next === undefined) return IGNORE;
  return leaveOnInput(table, ctx, def.next, ctx.slots);
}

/**
 * Whether a digit string fits the collect's `digits` length, spoken or typed: the keypad completes an entry at
 * `max` keys, and a caller who says one digit too many must not get further than one who types it.
 */
function withinLength(c: CollectDef, value: string): boolean {
  const digits = c.digits;
  if (digits === undefined || (c.entity !== undefined && c.entity !== 'digits')) return true;
  if (!/^[0-9]+$/.test(value)) return true;
  return value.length >= (digits.min ?? 1) && (digits.max === undefined || value.length <= digits.max);
}

export function saidYes(event: Utterance): boolean {
  return event.intent === 'yes' || (event.intent === null && event.entities.yes !== undefined);
}

export function saidNo(event: Utterance): boolean {
  return event.intent === 'no' || (event.intent === null && event.entities.no !== undefined);
}

function checkCollect({ state, at: stateAt, error: add, template, condition, names }: StateCheck): void {
  const c = state.collect;
  const at = `${stateAt}/collect`;
  if (!isObject(c)) {
    add(at, 'collect must be an object');
    return;
  }
  unknownKeys(c, COLLECT_KEYS, at, add);
  if (typeof c.slot !== 'string' || !SLOT_NAME.test(c.slot)) {
    add(`${at}/slot`, 'slot must be a name of letters, digits and "_"');
  }
  if (state.next === undefined) add(at, 'a state that collects needs "next"');
  if (c.digits === undefined && c.entity === undefined) {
    add(
      at,
      'collect needs "digits" (keypad), "entity" (speech), or both',
      'e.g. "entity": "number", "digits": { "max": 2 }',
    );
  }
  if (c.entity !== undefined) {
    if (typeof c.entity !== 'string') add(`${at}/entity`, 'entity must be the name of an entity');
    else if (!names.entities.has(c.entity)) {
      add(`${at}/entity`, `entity "${c.entity}" is not defined`, names.entityHints(c.entity));
    }
  }
  if (c.validate !== undefined) condition(c.validate, `${at}/validate`);
  for (const key of ['invalidSay', 'confirm'] as const) {
    const text = c[key];
    if (text === undefined) continue;
    if (typeof text !== 'string' || text.trim() === '') add(`${at}/${key}`, `${key} must be non-empty text`);
    else template(text, `${at}/${key}`);
  }
  if (c.digits !== undefined) checkDigits(c.digits, `${at}/digits`, add);
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

/** The collect note: the slot and how it is given (spoken entity, keyed digits), then "confirm" if read back. */
function describeCollect(c: CollectDef): string[] {
  const ways: string[] = [];
  if (c.entity !== undefined) ways.push(c.entity);
  if (c.digits !== undefined) {
    const { min = 1, max, terminator } = c.digits;
    const count =
      max === undefined
        ? `${min}+ digits`
        : min === max
          ? `${max} digit${max === 1 ? '' : 's'}`
          : `${min}-${max} digits`;
    ways.push(`${count}${terminator === undefined ? '' : `, ${terminator}`}`);
  }
  const notes = [`collect ${c.slot}: ${ways.join(' or ')}`];
  if (c.confirm !== undefined) notes.push('confirm');
  return notes;
}
