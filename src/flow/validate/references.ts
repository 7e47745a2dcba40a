/**
 * Checks of what a flow's texts refer to: the slots, environment variables and `call.` names of templates, the
 * slots and `call.` names of conditions, and the states of targets.
 */
import { CALL_PREFIX, CALL_REFS, isCallValue, VAR_NAME, varOf } from '../call-info.ts';
import { parseCondition } from '../conditions.ts';
import { didYouMean } from '../suggest.ts';
import { ENV_PREFIX, TEMPLATE_FILTERS, templateSlots } from '../template.ts';
import { isObject, unknownKeys, type Add } from './finding.ts';

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const CHOICE_KEYS = new Set(['if', 'goto']);
const CONDITION_HINT =
  `operands are slot names, ${CALL_REFS.join(', ')}, "strings", numbers, true or false; ` +
  'operators: == != < <= > >= in not in && || !';

/**
 * A `call.NAME` whose NAME the call does not have: the closest known one, and the list. A `call.vars.NAME` may
 * name any variable (the dialler is refused a call without it), so only its form is checked.
 */
function checkCallName(name: string, at: string, where: 'template' | 'condition', add: Add): void {
  if (isCallValue(name)) return;
  const ref = `${CALL_PREFIX}${name}`;
  const variable = varOf(name);
  if (variable !== undefined && variable !== '' && !VAR_NAME.test(variable)) {
    add(
      at,
      `${where} uses "${ref}", but "${variable}" is not a variable name`,
      'variable names are letters, digits and "_", not starting with a digit, e.g. call.vars.name',
    );
    return;
  }
  add(
    at,
    `${where} uses "${ref}", which a call does not have`,
    `${didYouMean(ref, CALL_REFS)}known call values: ${CALL_REFS.join(', ')}`,
  );
}

/**
 * A template's slots must be stored somewhere, its environment names well formed, its `call.` names known, its
 * filters known.
 */
export function checkTemplate(
  text: string,
  at: string,
  collected: Set<string>,
  slotHint: (slot: string) => string | undefined,
  add: Add,
): void {
  for (const { name, filter } of templateSlots(text)) {
    if (name.startsWith(CALL_PREFIX)) {
      // What the call knows of itself is there from its start: never collected.
      checkCallName(name.slice(CALL_PREFIX.length), at, 'template', add);
    } else if (name.startsWith(ENV_PREFIX)) {
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

export function checkCondition(
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
  for (const name of parsed.value.calls) checkCallName(name, at, 'condition', add);
}

/**
 * A target check for states named by `ref`: a state name, or a non-empty list of choices whose conditions parse
 * and whose last may go without `if`.
 */
export function targetIn(
  ref: (pointer: string, name: unknown) => void,
  condition: (source: unknown, at: string) => void,
  add: Add,
  warn: Add,
): (pointer: string, to: unknown) => void {
  return (pointer, to) => {
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
}
