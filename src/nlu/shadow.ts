/**
 * Shadowing: a candidate model version runs beside a flow's live model on the turns of real calls, and what it
 * would have understood is compared with what the live model did understand. The call only ever acts on the live
 * model; the candidate runs in a worker thread (worker-model.ts), after the turn is delivered, so the caller does
 * not wait for it. Which version shadows which flow is NLU_SHADOW: one version (whichever flow's cache holds it)
 * or `flow=version` pairs.
 */
import { SwitchboardError } from '../errors.ts';

export interface ShadowSetting {
  /** A version that shadows any flow whose model cache holds it; null when none. */
  readonly any: string | null;
  /** Versions by flow id. */
  readonly flows: ReadonlyMap<string, string>;
}

export const NO_SHADOW: ShadowSetting = Object.freeze({ any: null, flows: new Map<string, string>() });

const VERSION = /^[A-Za-z0-9_-]{1,64}$/;
/** As a flow id must be (flow/validate.ts). */
const FLOW_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/**
 * NLU_SHADOW: empty or unset for none, `VERSION`, or `FLOW=VERSION[,FLOW=VERSION...]`. Throws CONFIG_INVALID
 * naming the part at fault.
 */
export function parseShadowSetting(text: string | undefined): ShadowSetting {
  const value = text?.trim() ?? '';
  if (value === '') return NO_SHADOW;
  if (!value.includes('=')) {
    if (!VERSION.test(value)) throw invalid(`"${value}" is not a model version`);
    return { any: value, flows: new Map() };
  }
  const flows = new Map<string, string>();
  for (const part of value.split(',')) {
    const [flow = '', version = '', ...rest] = part.split('=').map((s) => s.trim());
    if (rest.length > 0 || !FLOW_ID.test(flow) || !VERSION.test(version))
      throw invalid(`"${part.trim()}" is not FLOW=VERSION`);
    if (flows.has(flow)) throw invalid(`flow ${flow} is named twice`);
    flows.set(flow, version);
  }
  return { any: null, flows };
}

/** The version that should shadow `flow`, if any (whether the cache holds it is the caller's to check). */
export function shadowVersion(setting: ShadowSetting, flow: string): string | null {
  return setting.flows.get(flow) ?? setting.any;
}

/** One turn understood by the live model and by its shadow. */
export interface ShadowVerdict {
  /** The shadow's version. */
  version: string;
  /** The turn: when it was said (the utterance's `at`) and the flow state it was understood in. */
  at: number;
  state: string;
  live: { intent: string | null; confidence: number };
  /** The shadow's answer; null when it had none (it failed, or too many turns were waiting for it). */
  shadow: { intent: string | null; confidence: number } | null;
  /** `agree`/`disagree` on the intent; `failed` or `busy` when the shadow gave no answer. */
  outcome: 'agree' | 'disagree' | 'failed' | 'busy';
  /** From asking the shadow to its answer. */
  ms: number;
}

function invalid(why: string): SwitchboardError {
  return new SwitchboardError('CONFIG_INVALID', `NLU_SHADOW: ${why}`, { variable: 'NLU_SHADOW' });
}
