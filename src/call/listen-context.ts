/**
 * What a flow state expects the caller to say, for the speech engine: a closed set of phrases when the answer is
 * one of a few (a value of the entity it collects, yes or no to a read-back, digits), or the flow's whole domain
 * when the caller may say anything the intent model then interprets. Built from the flow alone, so the same
 * state always listens the same way.
 */
import { MONTH_NAMES, WEEKDAY_NAMES } from '../common/calendar.ts';
import { expectedInput, type Expected, type FlowFile } from '../flow/index.ts';
import { BUILTIN_INTENTS } from '../nlu/builtin-intents.ts';
import type { ListenContext } from '../speech/stt/engine.ts';

/** Built-in entities whose spoken forms are number words. */
const NUMERIC = new Set(['number', 'digits', 'phone_number', 'date', 'time']);
/** Built-in entities said digit by digit: listening for "ten" or "hundred" there only invites mishearings. */
const DIGIT_STRINGS = new Set(['digits', 'phone_number']);
/** Built-in entities too varied to list as phrases ("next tuesday", "half past two"): an open question. */
const FREE_FORM = new Set(['date', 'time']);

const domains = new WeakMap<FlowFile, readonly string[]>();

// Lower case, as the recognizer's phrases are. Monday first, as these phrases have always been listed: the
// recognizer's phrase list (and so a replayed call's listen context) keeps its order.
const WEEKDAYS = [...WEEKDAY_NAMES.slice(1), WEEKDAY_NAMES[0]].map((day) => day.toLowerCase());
const MONTHS = MONTH_NAMES.map((month) => month.toLowerCase());
const ORDINALS = [
  'first',
  'second',
  'third',
  'fourth',
  'fifth',
  'sixth',
  'seventh',
  'eighth',
  'ninth',
  'tenth',
];
ORDINALS.push('eleventh', 'twelfth', 'thirteenth', 'fourteenth', 'fifteenth', 'sixteenth', 'seventeenth');
ORDINALS.push('eighteenth', 'nineteenth', 'twentieth', 'thirtieth');
for (const unit of ORDINALS.slice(0, 9)) ORDINALS.push(`twenty ${unit}`);
ORDINALS.push('thirty first');
const HOURS = [
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
];

/** How callers say a date: the search needs these words, which no flow lists (the entity is built in). */
const DATE_PHRASES: readonly string[] = [
  'today',
  'tomorrow',
  'the day after tomorrow',
  'next week',
  ...WEEKDAYS.flatMap((day) => [day, `next ${day}`, `this ${day}`, `on ${day}`, `this coming ${day}`]),
  ...MONTHS.flatMap((month) => ORDINALS.flatMap((n) => [`${month} ${n}`, `the ${n} of ${month}`])),
];

/** How callers say a time of day. */
const TIME_PHRASES: readonly string[] = [
  'noon',
  'midday',
  'midnight',
  ...HOURS.flatMap((h) => [
    `at ${h}`,
    `${h} o'clock`,
    `${h} thirty`,
    `${h} fifteen`,
    `${h} forty five`,
    `half past ${h}`,
    `quarter past ${h}`,
    `quarter to ${h}`,
    `${h} a m`,
    `${h} p m`,
    `${h} in the morning`,
    `${h} in the afternoon`,
    `${h} in the evening`,
  ]),
];

function examplesOf(flow: FlowFile, intent: string): readonly string[] {
  return flow.intents?.[intent]?.examples ?? BUILTIN_INTENTS[intent as keyof typeof BUILTIN_INTENTS] ?? [];
}

/** Every phrase of the flow: its intents' examples, the built-ins it does not redefine, its entities' values. */
export function flowDomain(flow: FlowFile): readonly string[] {
  let domain = domains.get(flow);
  if (domain === undefined) {
    const phrases = new Set<string>();
    const intents = new Set([...Object.keys(flow.intents ?? {}), ...Object.keys(BUILTIN_INTENTS)]);
    for (const intent of intents) for (const text of examplesOf(flow, intent)) phrases.add(text);
    for (const entity of Object.values(flow.entities ?? {}))
      for (const [value, synonyms] of Object.entries(entity.values)) {
        phrases.add(value);
        for (const synonym of synonyms) phrases.add(synonym);
      }
    domain = Object.freeze([...phrases]);
    domains.set(flow, domain);
  }
  return domain;
}

/**
 * The listen context of `state`; `confirming` is true while the state waits for yes or no to a read-back of
 * what it collected, `checking` while it asks whether the caller meant a global intent (they may say yes or no,
 * or answer the state's question after all).
 */
export function listenContext(
  flow: FlowFile,
  state: string,
  confirming = false,
  checking = false,
): ListenContext {
  const context = expected(flow, state, confirming);
  if (checking) context.phrases = [...context.phrases, ...examplesOf(flow, 'yes'), ...examplesOf(flow, 'no')];
  // The flow's language, for engines that hear more than one.
  if (flow.language !== undefined) context.language = flow.language;
  return context;
}

function expected(flow: FlowFile, state: string, confirming: boolean): ListenContext {
  const def = flow.states[state];
  const domain = flowDomain(flow);
  const phrases = new Set<string>();
  const add = (texts: readonly string[]): void => {
    for (const text of texts) phrases.add(text);
  };
  // Asking to hear the prompt again works in every state that waits for an answer.
  add(examplesOf(flow, 'repeat'));
  if (confirming) {
    add(examplesOf(flow, 'yes'));
    add(examplesOf(flow, 'no'));
    return { kind: 'closed', phrases: [...phrases], numbers: false, domain };
  }

  const wanted: Expected = def === undefined ? { intents: [] } : expectedInput(def);
  const intents = wanted.intents;
  for (const intent of intents) add(examplesOf(flow, intent));
  for (const [name, intent] of Object.entries(flow.intents ?? {}))
    if (intent.global) add(examplesOf(flow, name));

  const entity = wanted.entity;
  const custom = entity === undefined ? undefined : flow.entities?.[entity];
  if (custom)
    for (const [value, synonyms] of Object.entries(custom.values)) {
      phrases.add(value);
      add(synonyms);
    }
  if (entity === 'date') add(DATE_PHRASES);
  if (entity === 'time') add(TIME_PHRASES);
  if (entity === 'yes' || entity === 'no') {
    add(examplesOf(flow, 'yes'));
    add(examplesOf(flow, 'no'));
  }
  const numbers =
    entity === undefined || !NUMERIC.has(entity) ? false : DIGIT_STRINGS.has(entity) ? 'digits' : true;
  // A state that handles the flow's own intents hears paraphrases the model interprets, not only the listed
  // examples; yes, no, repeat and cancel are short enough to list.
  const open =
    intents.some((intent) => !Object.hasOwn(BUILTIN_INTENTS, intent)) ||
    (entity !== undefined && FREE_FORM.has(entity));
  const context: ListenContext = { kind: open ? 'open' : 'closed', phrases: [...phrases], numbers, domain };
  const keys = wanted.digits;
  // A digit string's length is the keypad entry's: a caller says as many digits as they would type.
  if (entity === 'digits' && keys?.max !== undefined)
    context.digitCount = { min: Math.min(keys.min ?? 1, keys.max), max: keys.max };
  return context;
}
