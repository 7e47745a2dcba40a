/**
 * Which environment variables a flow reads through `{{env.NAME}}`. A call captures exactly these when it starts,
 * so its machine renders them without touching the process environment (and replays the same way), and no other
 * variable (a secret, say) ever enters a call's state.
 */
import { ENV_PREFIX, templateSlots } from './template.ts';
import type { FlowFile, RetryPrompt } from './types.ts';

export function flowEnvNames(flow: FlowFile): string[] {
  const names = new Set<string>();
  const scan = (value: unknown): void => {
    if (typeof value === 'string') {
      for (const { name } of templateSlots(value)) {
        if (name.startsWith(ENV_PREFIX)) names.add(name.slice(ENV_PREFIX.length));
      }
    } else if (Array.isArray(value)) value.forEach(scan);
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(scan);
  };
  const prompts = (p: RetryPrompt | undefined): void => scan(p);
  for (const def of Object.values(flow.states)) {
    scan([def.say, def.set, def.resumeSay, def.transfer, def.collect?.confirm, def.collect?.invalidSay]);
    prompts(def.noInputSay);
    prompts(def.noMatchSay);
    if (def.http) scan([def.http.url, def.http.headers, def.http.body]);
  }
  prompts(flow.policy?.noInputSay);
  prompts(flow.policy?.noMatchSay);
  return [...names].sort();
}

/** The values of `names` in `source` (normally process.env); unset names are left out. */
export function captureEnv(
  names: readonly string[],
  source: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of names) {
    const value = source[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}
