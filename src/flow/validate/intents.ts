/** Checks of a flow's intents and entities: names, examples and synonyms each meaning one thing. */
import { BUILTIN_INTENTS } from '../../nlu/builtin-intents.ts';
import { normalizeUtterance } from '../../nlu/normalize.ts';
import { BUILTIN_ENTITY_NAMES } from '../types.ts';
import { escapePointer, isObject, unknownKeys, type Add } from './finding.ts';

/** Intent and entity names: no "-", so an intent name reads as one word in an "on" key. */
const INTENT_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** The flow's intent names that are well formed; every other finding about intents is reported here. */
export function checkIntents(
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
export function checkEntities(entities: unknown, add: Add, warn: Add): Set<string> {
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
