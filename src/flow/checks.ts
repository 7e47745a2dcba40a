/**
 * Static checks on a structurally valid flow: what the states do together rather than one by one. A state can
 * be unreachable, read a slot some path has not collected yet, or belong to a loop that moves on forever
 * without waiting for the caller. Every check is a graph walk in time about linear in the flow's size.
 */
import { ACTIONS, stateFacts } from './actions/index.ts';
import { buildGraph, Cut, walk, type Graph } from './checks/graph.ts';
import { talkingLoops } from './checks/loops.ts';
import { slotsBeforeCollected } from './checks/slots.ts';
import type { FlowFile } from './types.ts';
import { escapePointer, finding, type Finding } from './validate/finding.ts';

export { SLOT_CHECK_BUDGET } from './checks/slots.ts';

/** Checks that need the whole flow; run on a flow that passed the structural checks. */
export function staticChecks(flow: FlowFile): Finding[] {
  const graph = buildGraph(flow);
  const findings: Finding[] = [];
  findings.push(...ignored(graph));
  findings.push(...talkingLoops(graph));
  findings.push(...slotsBeforeCollected(graph));
  findings.push(...unreachable(graph));
  return findings;
}

function unreachable(graph: Graph): Finding[] {
  const parent = walk(graph, () => Cut.None);
  const out: Finding[] = [];
  graph.names.forEach((name, i) => {
    if (parent[i] === -1) {
      out.push(
        finding(
          'warning',
          `/states/${escapePointer(name)}`,
          `state "${name}" is unreachable: no path from "${graph.names[graph.start] ?? ''}" leads to it`,
          'remove it, or point an "on", "next", "onError", a global intent or "policy.fallback" at it',
        ),
      );
    }
  });
  return out;
}

/** Keys the compiled machine never follows, as the actions tell. */
function ignored(graph: Graph): Finding[] {
  const out: Finding[] = [];
  graph.defs.forEach((def, i) => {
    const at = `/states/${escapePointer(graph.names[i] ?? '')}`;
    const facts = stateFacts(def);
    for (const action of ACTIONS) {
      for (const w of action.ignored?.(def, facts) ?? [])
        out.push(finding('warning', `${at}/${w.key}`, w.message));
    }
  });
  return out;
}
