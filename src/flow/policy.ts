/** A flow's policy with every setting it leaves out taken from the defaults. */
import { DEFAULT_POLICY, type FlowFile, type ResolvedPolicy } from './types.ts';

/** Fill a flow's policy defaults. */
export function resolvePolicy(flow: FlowFile): ResolvedPolicy {
  const p = flow.policy ?? {};
  return {
    noInputMs: p.noInputMs ?? DEFAULT_POLICY.noInputMs,
    maxRetries: p.maxRetries ?? DEFAULT_POLICY.maxRetries,
    fallback: p.fallback ?? DEFAULT_POLICY.fallback,
    noInputSay: p.noInputSay ?? DEFAULT_POLICY.noInputSay,
    noMatchSay: p.noMatchSay ?? DEFAULT_POLICY.noMatchSay,
    supervisor: {
      maxRestarts: p.supervisor?.maxRestarts ?? DEFAULT_POLICY.supervisor.maxRestarts,
      withinMs: p.supervisor?.withinMs ?? DEFAULT_POLICY.supervisor.withinMs,
      onGiveUp: p.supervisor?.onGiveUp ?? DEFAULT_POLICY.supervisor.onGiveUp,
    },
    speechFailover: { ...DEFAULT_POLICY.speechFailover, ...p.speechFailover },
  };
}
