/**
 * Which environment variables a flow reads through `{{env.NAME}}`. A call captures exactly these when it starts,
 * so its machine renders them without touching the process environment (and replays the same way), and no other
 * variable (a secret, say) ever enters a call's state.
 */
import { ENV_PREFIX, templateSlots } from './template.ts';
import { ACTIONS } from './actions/index.ts';
import { flowReads } from './flow-reads.ts';
import type { FlowFile } from './types.ts';

export { notSetReason } from './actions/index.ts';

export function flowEnvNames(flow: FlowFile): string[] {
  const names = new Set<string>();
  for (const text of flowReads(flow).templates) {
    for (const { name } of templateSlots(text)) {
      if (name.startsWith(ENV_PREFIX)) names.add(name.slice(ENV_PREFIX.length));
    }
  }
  return [...names].sort();
}

/** The values of `names` in `source` (normally process.env); unset names are left out. */
export function captureEnv(
  names: readonly string[],
  source: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of names) {
    const value = valueOf(source, name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/**
 * Of `names`, those unset or blank in `source`: a template renders them as empty text, so a URL or number built
 * from one is not the one meant.
 */
export function unsetEnvNames(
  names: readonly string[],
  source: Readonly<Record<string, string | undefined>>,
): string[] {
  return names.filter((name) => (valueOf(source, name)?.trim() ?? '') === '');
}

/**
 * The variables that the address of web request or transfer `id` reads and that were unset or blank in the
 * call's `env`: `{{env.PHARMACY_URL}}/refills` without PHARMACY_URL renders as `/refills`. The machine names a
 * request `<state>.<n>`, so its state's template is found from the id.
 */
export function unsetEnvOfRequest(
  flow: FlowFile,
  id: string,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const state = id.slice(0, Math.max(0, id.lastIndexOf('.')));
  const def = Object.hasOwn(flow.states, state) ? flow.states[state] : undefined;
  const template = def && ACTIONS.map((action) => action.address?.(def)).find((t) => t !== undefined);
  if (template === undefined) return [];
  const names = templateSlots(template)
    .filter(({ name }) => name.startsWith(ENV_PREFIX))
    .map(({ name }) => name.slice(ENV_PREFIX.length));
  return unsetEnvNames([...new Set(names)], env);
}

/** String values only: `constructor` looked up in an object is not a variable. */
function valueOf(source: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const value = source[name];
  return typeof value === 'string' ? value : undefined;
}
