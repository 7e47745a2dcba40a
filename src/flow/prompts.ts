/** What a call says that no state's prompt says: the supervisor's goodbye, apologies, "did you mean...?". */
import type { FlowFile, RetryPrompt } from './types.ts';

export const GIVE_UP_SAY = 'Sorry, we could not continue. Goodbye.';

/** What a caller is asked before a global intent the model heard takes them away from the state's question. */
export function globalCheck(flow: FlowFile, intent: string): string {
  const def = flow.intents?.[intent];
  if (def?.confirm !== undefined) return def.confirm;
  return `Did you mean ${def?.examples[0] ?? intent}? Please say yes or no.`;
}

/** The apology for the retry after `retries` earlier ones: a list escalates, its last entry repeating. */
export function escalate(prompt: RetryPrompt, retries: number): string {
  if (typeof prompt === 'string') return prompt;
  return prompt[Math.min(retries, prompt.length - 1)] ?? '';
}
