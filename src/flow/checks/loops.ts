/**
 * Talking loops: a cycle through states that never wait for input is a call that talks, or spins, until someone
 * hangs up.
 */
import { escapePointer, finding, type Finding } from '../validate/finding.ts';
import { LISTED, type Graph } from './graph.ts';

/**
 * A cycle through states that never wait for input (prompts that move on, decision states) is a call that
 * talks, or spins, until someone hangs up. Conditions on the way may look as if they end it, but nothing the
 * caller does can change a slot inside the loop, so it is refused all the same. Found as the strongly
 * connected components of the graph of such states (Tarjan's algorithm, iterative).
 */
export function talkingLoops(graph: Graph): Finding[] {
  const n = graph.names.length;
  const next = graph.edges.map((out, i) =>
    graph.movesOn[i] === 1 ? out.filter((to) => graph.movesOn[to] === 1) : [],
  );
  const succ = (i: number): number[] => next[i] ?? [];
  const order = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (graph.movesOn[root] !== 1 || order[root] !== -1) continue;
    const work: [number, number][] = [[root, 0]];
    order[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (work.length > 0) {
      const top = work[work.length - 1] as [number, number];
      const [v] = top;
      const out = succ(v);
      if (top[1] < out.length) {
        const w = out[top[1]++] as number;
        if (order[w] === -1) {
          order[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          work.push([w, 0]);
        } else if (onStack[w] === 1) low[v] = Math.min(low[v] as number, order[w] as number);
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low[parent[0]] = Math.min(low[parent[0]] as number, low[v] as number);
      if (low[v] !== order[v]) continue;
      const component: number[] = [];
      let w: number;
      do {
        w = stack.pop() as number;
        onStack[w] = 0;
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || succ(v).includes(v)) components.push(component);
    }
  }

  const out: Finding[] = [];
  for (const component of components.sort((a, b) => first(a) - first(b))) {
    const names = shortestCycle(graph, component, succ).map((k) => graph.names[k] ?? '');
    const loop = names.length > LISTED ? [...names.slice(0, LISTED), '...'] : [...names, names[0]];
    out.push(
      finding(
        'error',
        `/states/${escapePointer(names[0] ?? '')}/next`,
        `talking loop: ${loop.map((s) => (s === '...' ? s : `"${s}"`)).join(' -> ')}` +
          `${names.length > LISTED ? ` (${names.length} states)` : ''} moves on by itself, so the call never waits for input`,
        'let one state of the loop wait for input ("on" or "collect"), make a web request, or hang up',
      ),
    );
  }
  return out;
}

/** The earliest state of a component in the file. */
function first(component: number[]): number {
  return component.reduce((a, b) => Math.min(a, b));
}

/** The shortest cycle through the component's first state in the file, from that state. */
function shortestCycle(graph: Graph, component: number[], succ: (i: number) => number[]): number[] {
  const head = first(component);
  const inside = new Set(component);
  const parent = new Map<number, number>();
  const queue = [head];
  for (let i = 0; i < queue.length; i++) {
    const from = queue[i] as number;
    for (const to of succ(from)) {
      if (!inside.has(to)) continue;
      if (to === head) {
        const cycle = [from];
        for (let k = from; k !== head; k = parent.get(k) as number) cycle.push(parent.get(k) as number);
        return cycle.reverse();
      }
      if (!parent.has(to)) {
        parent.set(to, from);
        queue.push(to);
      }
    }
  }
  return [head];
}
