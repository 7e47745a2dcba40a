/**
 * Static checks on a structurally valid flow: what the states do together rather than one by one. A state can
 * be unreachable, read a slot some path has not collected yet, or belong to a loop that moves on forever
 * without waiting for the caller. Every check is a graph walk in time about linear in the flow's size.
 */
import { parseCondition } from './conditions.ts';
import { ENV_PREFIX, templateSlots } from './template.ts';
import type { FlowFile, StateDef, Target } from './types.ts';
import { escapePointer, finding, type Finding } from './validate.ts';

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
  /** Where a call may begin: `start`, and the supervisor's `onGiveUp`, which may be entered from anywhere. */
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

function gotos(target: Target | undefined): string[] {
  if (target === undefined) return [];
  return typeof target === 'string' ? [target] : target.map((choice) => choice.goto);
}

/** Every choice of the target has a condition, so none may hold. */
function mayFallThrough(target: Target | undefined): boolean {
  return Array.isArray(target) && target.every((choice) => choice.if !== undefined);
}

function buildGraph(flow: FlowFile): Graph {
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
    const waits = def.on !== undefined || def.collect !== undefined;
    const acts = def.http !== undefined || def.transfer !== undefined;
    if (def.on) for (const to of Object.values(def.on)) out.push(...gotos(to).map(at));
    const stored = def.collect || def.http ? gotos(def.next).map(at) : [];
    // A web request's answer with no choice of `next` holding goes to the fallback, its slots stored.
    if (def.http && mayFallThrough(def.next) && fallback >= 0) stored.push(fallback);
    collectNext.push(stored);
    if (acts) {
      // A failed request or transfer goes to onError, or to the fallback when there is none (or none holds).
      out.push(...gotos(def.onError).map(at));
      if ((def.onError === undefined || mayFallThrough(def.onError)) && fallback >= 0) out.push(fallback);
    } else if (!waits && !def.hangup && def.next !== undefined) {
      movesOn[i] = 1;
      out.push(...gotos(def.next).map(at));
      // When no choice holds, the call goes to the fallback as if retries had run out.
      if (mayFallThrough(def.next) && fallback >= 0) out.push(fallback);
    }
    if (waits) {
      // A global intent is heard in every waiting state, unless the state binds the intent itself.
      for (const { intent, to } of globals) if (def.on?.[intent] === undefined) out.push(to);
      // Retries run out only in a state that waits for input; then the call goes to the fallback.
      if (fallback >= 0) out.push(fallback);
    }
    edges.push(out.filter((to) => to >= 0));
  });
  const start = at(flow.start);
  const giveUp = flow.policy?.supervisor?.onGiveUp === undefined ? -1 : at(flow.policy.supervisor.onGiveUp);
  const roots = [start, ...(giveUp >= 0 && giveUp !== start ? [giveUp] : [])].filter((r) => r >= 0);
  return {
    names,
    defs,
    index,
    start,
    roots,
    edges,
    collectNext: collectNext.map((out) => out.filter((to) => to >= 0)),
    movesOn,
  };
}

/** What a walk may not follow out of a state: nothing, its collect edges, or any edge. */
const Cut = { None: 0, Collect: 1, All: 2 } as const;
type Cut = (typeof Cut)[keyof typeof Cut];

/** States reachable from the roots when `cut(i)` blocks some of state i's edges. */
function walk(graph: Graph, cut: (i: number) => Cut): Int32Array {
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
 * A cycle through states that never wait for input (prompts that move on, decision states) is a call that
 * talks, or spins, until someone hangs up. Conditions on the way may look as if they end it, but nothing the
 * caller does can change a slot inside the loop, so it is refused all the same. Found as the strongly
 * connected components of the graph of such states (Tarjan's algorithm, iterative).
 */
function talkingLoops(graph: Graph): Finding[] {
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

/**
 * Where in a state a slot is read: on entering it (the values of `set`, worked out before any is stored),
 * in the state (prompts, conditions on input, a request, `onError`), or after its own collect or web request
 * has stored the value (`next` conditions, `validate`, `confirm`, `invalidSay` of a collecting state).
 */
type Moment = 'entry' | 'state' | 'after';

interface SlotUse {
  state: number;
  pointer: string;
  moment: Moment;
  /** A template reading an absent slot speaks nothing (an error); a condition sees it empty (a warning). */
  kind: 'template' | 'condition';
}

/** Every slot read of the flow, by slot. */
function slotUses(graph: Graph): Map<string, SlotUse[]> {
  const uses = new Map<string, SlotUse[]>();
  const seen = new Set<string>();
  const use = (slot: string, u: SlotUse): void => {
    const key = `${slot}\u0000${u.pointer}`;
    if (seen.has(key)) return;
    seen.add(key);
    const list = uses.get(slot);
    if (list) list.push(u);
    else uses.set(slot, [u]);
  };
  graph.defs.forEach((def, state) => {
    const at = `/states/${escapePointer(graph.names[state] ?? '')}`;
    const template = (text: string | undefined, pointer: string, moment: Moment): void => {
      if (text === undefined) return;
      for (const { name } of templateSlots(text)) {
        // Environment variables are read when the call starts, never collected.
        if (!name.startsWith(ENV_PREFIX)) use(name, { state, pointer, moment, kind: 'template' });
      }
    };
    const condition = (source: string | undefined, pointer: string, moment: Moment): void => {
      if (source === undefined) return;
      const parsed = parseCondition(source);
      if (!parsed.ok) return;
      for (const name of parsed.value.slots) use(name, { state, pointer, moment, kind: 'condition' });
    };
    const target = (to: Target | undefined, pointer: string, moment: Moment): void => {
      if (!Array.isArray(to)) return;
      to.forEach((choice, i) => condition(choice.if, `${pointer}/${i}/if`, moment));
    };
    for (const [slot, text] of Object.entries(def.set ?? {})) {
      template(text, `${at}/set/${escapePointer(slot)}`, 'entry');
    }
    template(def.say, `${at}/say`, 'state');
    template(def.ssml, `${at}/ssml`, 'state');
    template(def.resumeSay, `${at}/resumeSay`, 'state');
    for (const field of ['noInputSay', 'noMatchSay'] as const) {
      const text = def[field];
      if (typeof text === 'string') template(text, `${at}/${field}`, 'state');
      else text?.forEach((t, i) => template(t, `${at}/${field}/${i}`, 'state'));
    }
    for (const [input, to] of Object.entries(def.on ?? {}))
      target(to, `${at}/on/${escapePointer(input)}`, 'state');
    template(def.transfer, `${at}/transfer`, 'state');
    if (def.http) {
      template(def.http.url, `${at}/http/url`, 'state');
      for (const [name, value] of Object.entries(def.http.headers ?? {})) {
        template(value, `${at}/http/headers/${escapePointer(name)}`, 'state');
      }
      const stack: [unknown, string][] = [[def.http.body, `${at}/http/body`]];
      for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
        const [value, p] = item;
        if (typeof value === 'string') template(value, p, 'state');
        else if (Array.isArray(value)) value.forEach((v: unknown, i) => stack.push([v, `${p}/${i}`]));
        else if (typeof value === 'object' && value !== null) {
          for (const [k, v] of Object.entries(value)) stack.push([v, `${p}/${escapePointer(k)}`]);
        }
      }
    }
    // The error path never has the slots a failed request would have mapped.
    target(def.onError, `${at}/onError`, 'state');
    if (def.collect || def.http) {
      target(def.next, `${at}/next`, 'after');
      condition(def.collect?.validate, `${at}/collect/validate`, 'after');
      template(def.collect?.confirm, `${at}/collect/confirm`, 'after');
      template(def.collect?.invalidSay, `${at}/collect/invalidSay`, 'after');
    } else target(def.next, `${at}/next`, 'state');
  });
  return uses;
}

/**
 * A slot may be read only where every path from the roots has stored it: taken the `next` of a state that
 * collects it, or entered a state that sets it. For a slot stored in one place that is a dominator question:
 * split a collecting state's `next` edges with a node, and the slot is stored wherever that node (or the
 * setting state) dominates. Slots stored in several places get a walk of their own that avoids storing them.
 * A state that collects the slot is never dominated by its own edge: its prompt plays before the value is
 * given. Templates reading a slot that may be absent are errors; conditions are warned about, since an absent
 * slot is simply empty there.
 */
function slotsBeforeCollected(graph: Graph): Finding[] {
  const uses = slotUses(graph);
  if (uses.size === 0) return [];
  const collectors = new Map<string, number[]>();
  const setters = new Map<string, number[]>();
  const push = (map: Map<string, number[]>, slot: string, state: number): void => {
    const list = map.get(slot);
    if (list) list.push(state);
    else map.set(slot, [state]);
  };
  graph.defs.forEach((def, state) => {
    if (def.collect) push(collectors, def.collect.slot, state);
    for (const slot of Object.keys(def.http?.map ?? {})) push(collectors, slot, state);
    for (const slot of Object.keys(def.set ?? {})) push(setters, slot, state);
  });

  const dom = collectDominators(graph);
  const edgeCount = graph.edges.reduce(
    (sum, out, i) => sum + out.length + (graph.collectNext[i]?.length ?? 0),
    0,
  );
  const walkCost = graph.names.length + edgeCount;
  let budget = SLOT_CHECK_BUDGET;
  let pathsLeft = MAX_PATHS;
  const skipped: string[] = [];
  const out: Finding[] = [];

  for (const [slot, list] of uses) {
    const byCollect = collectors.get(slot) ?? [];
    const bySet = setters.get(slot) ?? [];
    const by = [...new Set([...byCollect, ...bySet])].sort((a, b) => a - b);
    if (by.length === 0) continue; // validate.ts already reports a slot that no state collects or sets
    const cut = new Uint8Array(graph.names.length);
    for (const i of byCollect) cut[i] = Cut.Collect;
    for (const i of bySet) cut[i] = Cut.All;
    let unset: (u: SlotUse) => boolean;
    let parent: Int32Array | null = null;
    const single = byCollect.length + bySet.length === 1;
    const node = !single
      ? -1
      : bySet.length === 1
        ? (bySet[0] as number)
        : (dom.split[byCollect[0] as number] as number);
    if (node >= 0) {
      unset = ({ state, moment }) => {
        if (moment === 'after' && dom.split[state] !== -1) {
          const after = dom.split[state] as number;
          return dom.reachable(after) && !dom.dominates(node, after);
        }
        if (!dom.reachable(state)) return false;
        return moment === 'entry'
          ? !dom.dominates(node, state) || node === state
          : !dom.dominates(node, state);
      };
    } else if (budget >= walkCost) {
      budget -= walkCost;
      const walked = walk(graph, (i) => (cut[i] ?? Cut.None) as Cut);
      parent = walked;
      unset = ({ state, moment }) => {
        if (walked[state] === -1) return false;
        if (moment === 'entry') return true;
        if (cut[state] === Cut.All) return false;
        return moment === 'state' || cut[state] !== Cut.Collect;
      };
    } else {
      skipped.push(slot);
      continue;
    }
    for (const u of list) {
      if (!unset(u)) continue;
      const name = graph.names[u.state] ?? '';
      if (parent === null && pathsLeft > 0) {
        pathsLeft -= 1;
        parent = walk(graph, (i) => (cut[i] ?? Cut.None) as Cut);
      }
      const via = parent === null ? `a path to "${name}"` : pathText(graph, parent, u.state);
      const own =
        u.moment === 'entry' && cut[u.state] === Cut.All
          ? ' (the values of "set" are worked out before any is stored)'
          : cut[u.state] === Cut.Collect && u.moment === 'state'
            ? graph.defs[u.state]?.http
              ? ' (the request and its error path come before the answer is stored)'
              : ' (its own prompt plays before the value is given)'
            : '';
      const hint = `collected or set in: ${by
        .slice(0, LISTED)
        .map((i) => `"${graph.names[i] ?? ''}"`)
        .join(', ')}; every path to "${name}" must pass through one of them`;
      out.push(
        u.kind === 'template'
          ? finding(
              'error',
              u.pointer,
              `slot "${slot}" may be ${spoken(u.pointer)} before it is collected: ${via} never collects or sets it${own}`,
              hint,
            )
          : finding(
              'warning',
              u.pointer,
              `slot "${slot}" may be read before it is collected: ${via} never collects or sets it${own}, so the condition sees it empty`,
              hint,
            ),
      );
    }
  }
  if (skipped.length > 0) {
    out.push(
      finding(
        'warning',
        '/states',
        `not checked whether ${skipped.length} slots stored in several states are stored before use: the flow is too large to walk once per slot`,
      ),
    );
  }
  return out;
}

/** A request or a number is not spoken, but an absent slot breaks it all the same. */
function spoken(pointer: string): string {
  return /^\/states\/[^/]+\/(http|transfer)(\/|$)/.test(pointer) ? 'used' : 'spoken';
}

/** Paths spelled out in slot findings; each costs a walk of the flow. */
const MAX_PATHS = 50;

interface CollectDominators {
  /** The node splitting each collecting state's `next` edges, or -1. */
  split: Int32Array;
  reachable: (node: number) => boolean;
  dominates: (a: number, b: number) => boolean;
}

/**
 * Dominators of the flow graph with each collecting state's `next` edges split by a node of its own, answered
 * in O(1) through the dominator tree's preorder intervals. A virtual root leads to every root of the flow.
 */
function collectDominators(graph: Graph): CollectDominators {
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

/** The walk's path from a root to `to`, e.g. `"menu" -> "confirm"`, with the middle cut out when long. */
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
