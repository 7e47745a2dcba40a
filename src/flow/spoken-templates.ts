/**
 * Every template a flow speaks to the caller: state prompts, read-backs, apologies, its own lines (a recording's
 * consent), and the policy's apologies.
 */
import { ACTIONS, stateFacts } from './actions/index.ts';
import { DEFAULT_POLICY, type FlowFile, type RetryPrompt } from './types.ts';

export function spokenTemplates(flow: FlowFile): string[] {
  const out: string[] = [];
  for (const [state, def] of Object.entries(flow.states)) {
    const facts = stateFacts(def);
    for (const read of ACTIONS.flatMap((action) => action.reads?.(def, state, facts) ?? [])) {
      if (read.spoken && read.text !== undefined) out.push(read.text);
    }
  }
  for (const read of ACTIONS.flatMap((action) => action.flowKeyReads?.(flow) ?? [])) {
    if (read.spoken && read.text !== undefined) out.push(read.text);
  }
  const retry = (prompt: RetryPrompt | undefined): void => {
    if (typeof prompt === 'string') out.push(prompt);
    else prompt?.forEach((text) => out.push(text));
  };
  retry(flow.policy?.noInputSay ?? DEFAULT_POLICY.noInputSay);
  retry(flow.policy?.noMatchSay ?? DEFAULT_POLICY.noMatchSay);
  return out;
}
