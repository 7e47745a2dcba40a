/** Checks of a flow's `policy`: timeouts, retries, the fallback, the supervisor and speech failover. */
import { checkRetryPrompt } from '../actions/index.ts';
import { isObject, isPositiveInt, unknownKeys, type Add, type Check } from './finding.ts';

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
export function checkPolicy(
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
