/**
 * Static checks on a structurally valid flow: what the states do together rather than one by one. A state can
 * be unreachable, speak a slot some path has not collected yet, or belong to a loop that talks forever. Every
 * check is a graph walk in time about linear in the flow's size.
 */
import { templateSlots } from './template.ts';
import type { FlowFile, StateDef } from './types.ts';
import { escapePointer, finding, type Finding } from './validate.ts';

const TEMPLATE_FIELDS = ['say', 'noInputSay', 'noMatchSay'] as const;
/** Names listed in a message before it is cut short, so a huge flow gives a readable line. */
const LISTED = 8;
/**
 * Slots collected in several states cost a walk of the flow each; past this many steps (walks x flow size)
 * the rest are skipped with a warning rather than keep a 5 MB flow waiting.
 */
export const SLOT_CHECK_BUDGET = 20_000_000;

interface Graph {
  names: string[];
  defs: StateDef[];
  index: Map<string, number>;
  start: number;
  /** Edges a call can take from each state, except the one that stores a collected slot. */
  edges: number[][];
  /** The `next` of a state that collects: taken only once the digits are stored. */
  collectNext: Int32Array;
}

/** Checks that need the whole flow; run on a flow that passed the structural checks. */
export function staticChecks(flow: FlowFile): Finding[] {
  const graph = buildGraph(flow);
  const findings: Finding[] = [];
  findings.push(...ignoredNext(graph));
  findings.push(...talkingLoops(graph));
  findings.push(...slotsBeforeCollected(graph));
  findings.push(...unreachable(graph));
  return findings;
}

function buildGraph(flow: FlowFile): Graph {
  const names = Object.keys(flow.states);
  const defs = Object.values(flow.states);
  const index = new Map(names.map((name, i) => [name, i]));
  const at = (name: string): number => index.get(name) ?? -1;
  const fallback = flow.policy?.fallback === undefined ? -1 : at(flow.policy.fallback);
  const edges: number[][] = [];
  const collectNext = new Int32Array(names.length).fill(-1);
  defs.forEach((def, i) => {
    const out: number[] = [];
    const waits = def.on !== undefined || def.collect !== undefined;
    if (def.on) for (const to of Object.values(def.on)) out.push(at(to));
    if (def.collect && def.next !== undefined) collectNext[i] = at(def.next);
    else if (!def.on && !def.hangup && def.next !== undefined) out.push(at(def.next));
    // Retries run out only in a state that waits for input; then the call goes to the fallback.
    if (waits && fallback >= 0) out.push(fallback);
    edges.push(out.filter((to) => to >= 0));
  });
  return { names, defs, index, start: at(flow.start), edges, collectNext };
}

/** States reachable from `start`; `skipCollect(i)` drops state i's collect edge (the slot is not stored). */
function walk(graph: Graph, skipCollect: (i: number) => boolean): Int32Array {
  // parent[i] is the state the walk reached i from: -1 unreached, i itself for the start.
  const parent = new Int32Array(graph.names.length).fill(-1);
  if (graph.start < 0) return parent;
  parent[graph.start] = graph.start;
  const queue = [graph.start];
  for (let head = 0; head < queue.length; head++) {
    const from = queue[head] as number;
    const next = skipCollect(from) ? -1 : (graph.collectNext[from] as number);
    const out = graph.edges[from] ?? [];
    for (let k = -1; k < out.length; k++) {
      const to = k < 0 ? next : (out[k] as number);
      if (to >= 0 && parent[to] === -1) {
        parent[to] = from;
        queue.push(to);
      }
    }
  }
  return parent;
}

function unreachable(graph: Graph): Finding[] {
  const parent = walk(graph, () => false);
  const out: Finding[] = [];
  graph.names.forEach((name, i) => {
    if (parent[i] === -1) {
      out.push(
        finding(
          'warning',
          `/states/${escapePointer(name)}`,
          `state "${name}" is unreachable: no path from "${graph.names[graph.start] ?? ''}" leads to it`,
          'remove it, or point an "on", "next" or "policy.fallback" at it',
        ),
      );
    }
  });
  return out;
}

/** `next` that the compiled machine never follows. */
function ignoredNext(graph: Graph): Finding[] {
  const out: Finding[] = [];
  graph.defs.forEach((def, i) => {
    if (def.next === undefined) return;
    const at = `/states/${escapePointer(graph.names[i] ?? '')}/next`;
    if (def.hangup) out.push(finding('warning', at, 'next is never taken: the state hangs up'));
    else if (def.on) {
      out.push(finding('warning', at, 'next is never taken: a state with "on" leaves only by its inputs'));
    }
  });
  return out;
}

/**
 * States that speak and move on without waiting for the caller each have exactly one way out, so they form a
 * graph where every node has one successor; a cycle in it is a call that talks until someone hangs up.
 */
function talkingLoops(graph: Graph): Finding[] {
  const n = graph.names.length;
  const succ = new Int32Array(n).fill(-1);
  graph.defs.forEach((def, i) => {
    if (!def.on && !def.collect && !def.hangup && def.next !== undefined) {
      succ[i] = graph.index.get(def.next) ?? -1;
    }
  });
  // seen[i]: 0 unvisited, otherwise the number of the walk that visited i.
  const seen = new Int32Array(n);
  const out: Finding[] = [];
  for (let first = 0; first < n; first++) {
    if (seen[first] !== 0) continue;
    const mark = first + 1;
    let i = first;
    while (i >= 0 && seen[i] === 0) {
      seen[i] = mark;
      i = succ[i] as number;
    }
    if (i < 0 || seen[i] !== mark) continue;
    // i is on a cycle first met in this walk; list it from its earliest state in the file.
    const cycle = [i];
    for (let j = succ[i] as number; j !== i; j = succ[j] as number) cycle.push(j);
    const head = cycle.indexOf(cycle.reduce((a, b) => Math.min(a, b)));
    const ordered = [...cycle.slice(head), ...cycle.slice(0, head)];
    const names = ordered.map((k) => graph.names[k] ?? '');
    const loop = names.length > LISTED ? [...names.slice(0, LISTED), '...'] : [...names, names[0]];
    out.push(
      finding(
        'error',
        `/states/${escapePointer(names[0] ?? '')}/next`,
        `talking loop: ${loop.map((s) => (s === '...' ? s : `"${s}"`)).join(' -> ')}` +
          `${names.length > LISTED ? ` (${names.length} states)` : ''} only speaks and moves on, so the call never waits for input`,
        'let one state of the loop wait for a key ("on" or "collect") or hang up',
      ),
    );
  }
  return out;
}

/**
 * A prompt may use a slot only where every path from `start` has stored it, i.e. has taken the `next` of a
 * state that collects it. For a slot collected by one state that is a dominator question: split that state's
 * `next` edge with a node, and the slot is set wherever the node dominates. Slots collected by several states
 * get a walk of their own that avoids all their collect edges. A state that collects the slot is never
 * dominated by its own edge: its prompt plays before the digits are typed.
 */
function slotsBeforeCollected(graph: Graph): Finding[] {
  const uses = new Map<string, { state: number; field: (typeof TEMPLATE_FIELDS)[number] }[]>();
  const collectors = new Map<string, number[]>();
  graph.defs.forEach((def, state) => {
    if (def.collect) collectors.set(def.collect.slot, [...(collectors.get(def.collect.slot) ?? []), state]);
    for (const field of TEMPLATE_FIELDS) {
      const text = def[field];
      if (text === undefined) continue;
      for (const { name } of templateSlots(text)) {
        const list = uses.get(name) ?? [];
        if (!list.some((u) => u.state === state && u.field === field)) list.push({ state, field });
        uses.set(name, list);
      }
    }
  });
  if (uses.size === 0) return [];

  const dom = collectDominators(graph);
  const edgeCount = graph.edges.reduce((sum, out) => sum + out.length + 1, 0);
  const walkCost = graph.names.length + edgeCount;
  let budget = SLOT_CHECK_BUDGET;
  let pathsLeft = MAX_PATHS;
  const skipped: string[] = [];
  const out: Finding[] = [];
  const startName = graph.names[graph.start] ?? '';

  for (const [slot, list] of uses) {
    const by = collectors.get(slot) ?? [];
    if (by.length === 0) continue; // validate.ts already reports a slot that no state collects
    const collects = new Uint8Array(graph.names.length);
    for (const i of by) collects[i] = 1;
    let unset: (state: number) => boolean;
    let parent: Int32Array | null = null;
    const single = by.length === 1 ? (by[0] as number) : -1;
    if (single >= 0 && dom.split[single] !== -1) {
      const node = dom.split[single] as number;
      unset = (state) => dom.reachable(state) && !dom.dominates(node, state);
    } else if (budget >= walkCost) {
      budget -= walkCost;
      const walked = walk(graph, (i) => collects[i] === 1);
      parent = walked;
      unset = (state) => walked[state] !== -1;
    } else {
      skipped.push(slot);
      continue;
    }
    for (const { state, field } of list) {
      if (!unset(state)) continue;
      const name = graph.names[state] ?? '';
      if (parent === null && pathsLeft > 0) {
        pathsLeft -= 1;
        parent = walk(graph, (i) => collects[i] === 1);
      }
      const via = parent === null ? `a path to "${name}"` : pathText(graph, parent, state);
      const own = collects[state] === 1 ? ' (its own prompt plays before the digits are typed)' : '';
      out.push(
        finding(
          'error',
          `/states/${escapePointer(name)}/${field}`,
          `slot "${slot}" may be spoken before it is collected: ${via} never collects it${own}`,
          `collected in: ${by
            .slice(0, LISTED)
            .map((i) => `"${graph.names[i] ?? ''}"`)
            .join(', ')}; every path from "${startName}" to "${name}" must pass through one of them`,
        ),
      );
    }
  }
  if (skipped.length > 0) {
    out.push(
      finding(
        'warning',
        '/states',
        `not checked whether ${skipped.length} slots collected in several states are collected before use: the flow is too large to walk once per slot`,
      ),
    );
  }
  return out;
}

/** Paths spelled out in slot findings; each costs a walk of the flow. */
const MAX_PATHS = 50;

interface CollectDominators {
  /** The node splitting each collecting state's `next` edge, or -1. */
  split: Int32Array;
  reachable: (node: number) => boolean;
  dominates: (a: number, b: number) => boolean;
}

/**
 * Dominators of the flow graph with each collect edge split by a node of its own, answered in O(1) through
 * the dominator tree's preorder intervals.
 */
function collectDominators(graph: Graph): CollectDominators {
  const n = graph.names.length;
  const split = new Int32Array(n).fill(-1);
  const succ: number[][] = graph.edges.map((out) => [...out]);
  for (let i = 0; i < n; i++) {
    const to = graph.collectNext[i] as number;
    if (to < 0) continue;
    split[i] = succ.length;
    succ[i]?.push(succ.length);
    succ.push([to]);
  }
  const total = succ.length;
  const idom = immediateDominators(succ, graph.start);
  const order: number[] = [];
  for (let node = 0; node < total; node++) if (idom[node] !== -1) order.push(node);

  // Preorder entry and exit times of the dominator tree: a dominates b iff b's interval nests in a's.
  const children: number[][] = Array.from({ length: total }, () => []);
  for (const node of order) if (node !== graph.start) children[idom[node] as number]?.push(node);
  const enter = new Int32Array(total).fill(-1);
  const exit = new Int32Array(total).fill(-1);
  let clock = 0;
  if (order.length > 0) {
    const stack: [number, number][] = [[graph.start, 0]];
    enter[graph.start] = clock++;
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as [number, number];
      const kids = children[top[0]] ?? [];
      if (top[1] < kids.length) {
        const kid = kids[top[1]++] as number;
        enter[kid] = clock++;
        stack.push([kid, 0]);
      } else {
        exit[top[0]] = clock++;
        stack.pop();
      }
    }
  }
  return {
    split,
    reachable: (node) => enter[node] !== -1,
    dominates: (a, b) =>
      enter[a] !== -1 &&
      enter[b] !== -1 &&
      (enter[a] as number) <= (enter[b] as number) &&
      (exit[b] as number) <= (exit[a] as number),
  };
}

/** The walk's path from start to `to`, e.g. `"menu" -> "confirm"`, with the middle cut out when long. */
function pathText(graph: Graph, parent: Int32Array, to: number): string {
  const path: number[] = [to];
  for (let i = to; parent[i] !== i && path.length <= graph.names.length; i = parent[i] as number) {
    path.push(parent[i] as number);
  }
  path.reverse();
  const quoted = path.map((i) => `"${graph.names[i] ?? ''}"`);
  const shown =
    quoted.length > LISTED ? [...quoted.slice(0, LISTED / 2), '...', ...quoted.slice(-LISTED / 2)] : quoted;
  return `the path ${shown.join(' -> ')}`;
}

/**
 * Immediate dominators by Lengauer and Tarjan (path compression only, O(m log n)); -1 for nodes `start`
 * does not reach, `start` for itself. The simpler iterative algorithm is quadratic when a hub such as the
 * fallback is entered from thousands of states deep in the dominator tree.
 */
function immediateDominators(succ: number[][], start: number): Int32Array {
  const total = succ.length;
  const idom = new Int32Array(total).fill(-1);
  if (start < 0) return idom;
  const dfnum = new Int32Array(total).fill(-1);
  const vertex: number[] = [];
  const parent = new Int32Array(total).fill(-1);
  // Iterative DFS in preorder: a recursive one would overflow on a long chain of states.
  const stack: [number, number][] = [[start, 0]];
  dfnum[start] = 0;
  vertex.push(start);
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as [number, number];
    const out = succ[top[0]] ?? [];
    if (top[1] < out.length) {
      const to = out[top[1]++] as number;
      if (dfnum[to] === -1) {
        dfnum[to] = vertex.length;
        vertex.push(to);
        parent[to] = top[0];
        stack.push([to, 0]);
      }
    } else stack.pop();
  }
  const preds: number[][] = Array.from({ length: total }, () => []);
  for (const from of vertex) for (const to of succ[from] ?? []) preds[to]?.push(from);

  const semi = Int32Array.from(dfnum);
  const label = Int32Array.from({ length: total }, (_, i) => i);
  const ancestor = new Int32Array(total).fill(-1);
  const bucket: number[][] = Array.from({ length: total }, () => []);
  const path: number[] = [];
  const evaluate = (v: number): number => {
    if (ancestor[v] === -1) return v;
    let x = v;
    while (ancestor[ancestor[x] as number] !== -1) {
      path.push(x);
      x = ancestor[x] as number;
    }
    // Compress from the node nearest the root down, as the recursive formulation would.
    while (path.length > 0) {
      const y = path.pop() as number;
      const a = ancestor[y] as number;
      if ((semi[label[a] as number] as number) < (semi[label[y] as number] as number))
        label[y] = label[a] as number;
      ancestor[y] = ancestor[a] as number;
    }
    return label[v] as number;
  };
  for (let i = vertex.length - 1; i >= 1; i--) {
    const w = vertex[i] as number;
    for (const v of preds[w] ?? []) {
      const u = evaluate(v);
      if ((semi[u] as number) < (semi[w] as number)) semi[w] = semi[u] as number;
    }
    bucket[vertex[semi[w] as number] as number]?.push(w);
    const p = parent[w] as number;
    ancestor[w] = p;
    for (const v of bucket[p] ?? []) {
      const u = evaluate(v);
      idom[v] = (semi[u] as number) < (semi[v] as number) ? u : p;
    }
    bucket[p] = [];
  }
  for (let i = 1; i < vertex.length; i++) {
    const w = vertex[i] as number;
    if (idom[w] !== vertex[semi[w] as number]) idom[w] = idom[idom[w] as number] as number;
  }
  idom[start] = start;
  return idom;
}
