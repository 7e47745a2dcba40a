/**
 * The flow as a graph for the static checks: each state's edges, as its actions describe them (src/flow/actions/),
 * and walks from the roots that may be cut at some states.
 */
import { ACTIONS, stateFacts, type PathSink } from '../actions/index.ts';
import { gotos } from '../routing.ts';
import type { FlowFile, StateDef, Target } from '../types.ts';

/** Names listed in a message before it is cut short, so a huge flow gives a readable line. */
export const LISTED = 8;

export interface Graph {
  names: string[];
  defs: StateDef[];
  index: Map<string, number>;
  start: number;
  /**
   * Where a call may begin: `start`, and the states that may be entered from anywhere: the supervisor's
   * `onGiveUp`, and the flow's `on.machine`.
   */
  roots: number[];
  /** Edges a call can take from each state, except those that store a collected slot. */
  edges: number[][];
  /**
   * The `next` of a state that collects, or of a web request (its mapped slots): taken only once the values
   * are stored.
   */
  collectNext: number[][];
  /**
   * States that neither wait for input, nor wait for a web request or a transfer, nor hang up: they speak (or
   * decide) and move on.
   */
  movesOn: Uint8Array;
}

export function buildGraph(flow: FlowFile): Graph {
  const names = Object.keys(flow.states);
  const defs = Object.values(flow.states);
  const index = new Map(names.map((name, i) => [name, i]));
  const at = (name: string): number => index.get(name) ?? -1;
  const fallback = flow.policy?.fallback === undefined ? -1 : at(flow.policy.fallback);
  const globals = Object.entries(flow.intents ?? {}).flatMap(([intent, def]) =>
    def.global === undefined ? [] : [{ intent, to: at(def.global) }],
  );
  const edges: number[][] = [];
  const collectNext: number[][] = [];
  const movesOn = new Uint8Array(names.length);
  defs.forEach((def, i) => {
    const out: number[] = [];
    const stored: number[] = [];
    const to = (target: Target | undefined): number[] => gotos(target).map(at);
    const sink: PathSink = {
      edge: (target) => out.push(...to(target)),
      stored: (target) => stored.push(...to(target)),
      fallback: (isStored = false) => {
        if (fallback >= 0) (isStored ? stored : out).push(fallback);
      },
      movesOn: () => {
        movesOn[i] = 1;
      },
    };
    const facts = stateFacts(def);
    for (const action of ACTIONS) action.paths?.(def, facts, sink);
    if (facts.waits) {
      // A global intent is heard in every waiting state, unless the state binds the intent itself.
      for (const g of globals) if (!binds(def, g.intent)) out.push(g.to);
      // Retries run out only in a state that waits for input; then the call goes to the fallback.
      if (fallback >= 0) out.push(fallback);
    }
    collectNext.push(stored);
    edges.push(out.filter((n) => n >= 0));
  });
  const start = at(flow.start);
  const anywhere = [flow.policy?.supervisor?.onGiveUp, flow.on?.machine].flatMap((name) =>
    name === undefined ? [] : [at(name)],
  );
  const roots = [...new Set([start, ...anywhere])].filter((r) => r >= 0);
  return {
    names,
    defs,
    index,
    start,
    roots,
    edges,
    collectNext: collectNext.map((out) => out.filter((n) => n >= 0)),
    movesOn,
  };
}

function binds(def: StateDef, intent: string): boolean {
  return ACTIONS.some((action) => action.binds?.(def, intent) === true);
}

/** What a walk may not follow out of a state: nothing, its collect edges, or any edge. */
export const Cut = { None: 0, Collect: 1, All: 2 } as const;
export type Cut = (typeof Cut)[keyof typeof Cut];

/** States reachable from the roots when `cut(i)` blocks some of state i's edges. */
export function walk(graph: Graph, cut: (i: number) => Cut): Int32Array {
  // parent[i] is the state the walk reached i from: -1 unreached, i itself for a root.
  const parent = new Int32Array(graph.names.length).fill(-1);
  const queue: number[] = [];
  for (const root of graph.roots) {
    parent[root] = root;
    queue.push(root);
  }
  for (let head = 0; head < queue.length; head++) {
    const from = queue[head] as number;
    const blocked = cut(from);
    if (blocked === Cut.All) continue;
    const visit = (to: number): void => {
      if (parent[to] === -1) {
        parent[to] = from;
        queue.push(to);
      }
    };
    for (const to of graph.edges[from] ?? []) visit(to);
    if (blocked === Cut.None) for (const to of graph.collectNext[from] ?? []) visit(to);
  }
  return parent;
}
