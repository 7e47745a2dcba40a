/** Dominators of the flow graph, for the check that slots are stored before they are read (slots.ts). */
import type { Graph } from './graph.ts';

export interface CollectDominators {
  /** The node splitting each collecting state's `next` edges, or -1. */
  split: Int32Array;
  reachable: (node: number) => boolean;
  dominates: (a: number, b: number) => boolean;
}

/**
 * Dominators of the flow graph with each collecting state's `next` edges split by a node of its own, answered
 * in O(1) through the dominator tree's preorder intervals. A virtual root leads to every root of the flow.
 */
export function collectDominators(graph: Graph): CollectDominators {
  const n = graph.names.length;
  const split = new Int32Array(n).fill(-1);
  const succ: number[][] = graph.edges.map((out) => [...out]);
  for (let i = 0; i < n; i++) {
    const to = graph.collectNext[i] ?? [];
    if (to.length === 0) continue;
    split[i] = succ.length;
    succ[i]?.push(succ.length);
    succ.push([...to]);
  }
  const root = succ.length;
  succ.push([...graph.roots]);
  const total = succ.length;
  const idom = immediateDominators(succ, root);
  const order: number[] = [];
  for (let node = 0; node < total; node++) if (idom[node] !== -1) order.push(node);

  // Preorder entry and exit times of the dominator tree: a dominates b iff b's interval nests in a's.
  const children: number[][] = Array.from({ length: total }, () => []);
  for (const node of order) if (node !== root) children[idom[node] as number]?.push(node);
  const enter = new Int32Array(total).fill(-1);
  const exit = new Int32Array(total).fill(-1);
  let clock = 0;
  if (order.length > 0) {
    const stack: [number, number][] = [[root, 0]];
    enter[root] = clock++;
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
    reachable: (node) => node !== root && enter[node] !== -1,
    dominates: (a, b) =>
      enter[a] !== -1 &&
      enter[b] !== -1 &&
      (enter[a] as number) <= (enter[b] as number) &&
      (exit[b] as number) <= (exit[a] as number),
  };
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
