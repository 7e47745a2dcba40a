/**
 * A flow's states and transitions as a diagram: Mermaid (GitHub renders it inside ```mermaid fences) or
 * Graphviz dot. Both formats are drawn from one list of nodes and edges, so they always show the same graph.
 * The edges are the transitions the compiled machine can take (see compile.ts), not every key in the file, as
 * each state's actions draw them (src/flow/actions/): `next` is never followed from a state that hangs up or
 * branches with `on`, a web request leaves by "done" or "error", a transfer has only the "error" way out.
 */
import { ACTIONS, ERROR_LABEL, stateFacts, type Draw } from './actions/index.ts';
import { expandSubflows } from './subflows.ts';
import type { FlowFile, Target } from './types.ts';

export { DONE_LABEL, ERROR_LABEL, HTTP_LABEL_MAX, describeHttp } from './actions/index.ts';

export type GraphFormat = 'mermaid' | 'dot';
export const GRAPH_FORMATS: readonly GraphFormat[] = ['mermaid', 'dot'];

export const FALLBACK_LABEL = 'no input / no match';
/** Label of the edge to the fallback from a state whose `next` choices may all fail. */
export const NO_CHOICE_LABEL = 'no choice holds';
/** Conditions longer than this are cut short in edge labels. */
export const CONDITION_LABEL_MAX = 40;

/** Internal node names; `$` cannot occur in a state name, so these never collide with one. */
const START = '$start';
/** Where a call ends when retries run out and the policy has no fallback. */
const END = '$end';
/** The supervisor giving up on the call's logic, which leads to `policy.supervisor.onGiveUp`. */
const GIVE_UP = '$giveUp';
/** An answering machine's greeting ending, which leads to the flow's `on.machine` from any state. */
const MACHINE = '$machine';
/** Stands for every waiting state, so each global intent is one edge rather than one per state. */
const ANY = '$any';

export type NodeKind = 'start' | 'state' | 'hangup' | 'virtual';

export interface GraphNode {
  name: string;
  kind: NodeKind;
  title: string;
  /** Further label lines, each drawn in parentheses: what the state does besides speaking. */
  notes: string[];
}

export interface GraphEdge {
  from: string;
  to: string;
  label: string | null;
  /** Not a choice of the caller's in this state (fallback, global intent, give-up); drawn dashed. */
  dashed: boolean;
}

export interface Graph {
  id: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** Draw a validated flow in the given format; the text ends with a newline. */
export function flowGraph(file: FlowFile, format: GraphFormat): string {
  // Drawn as the machine runs it: each call of a sub-flow is its own copy, "caller--state".
  const flow = expandSubflows(file);
  return format === 'dot' ? toDot(flow) : toMermaid(flow);
}

export function buildGraph(flow: FlowFile): Graph {
  const nodes: GraphNode[] = [{ name: START, kind: 'start', title: 'start', notes: [] }];
  const edges: GraphEdge[] = [{ from: START, to: flow.start, label: null, dashed: false }];
  const waiting: string[] = [];
  const fallingThrough: string[] = [];
  const failing: string[] = [];

  for (const [name, state] of Object.entries(flow.states)) {
    const draw: Draw = {
      node: (kind, notes) => nodes.push({ name, kind, title: name, notes }),
      edges: (target, base) => {
        for (const { to, label } of targetLabels(target, base))
          edges.push({ from: name, to, label, dashed: false });
      },
      fallsThrough: () => fallingThrough.push(name),
      failing: () => failing.push(name),
    };
    const facts = stateFacts(state);
    // A state whose work leaves the ordinary shape (a transfer, a hangup, a web request) is drawn by its action.
    if (ACTIONS.some((action) => action.drawState?.(state, draw, facts) === true)) continue;
    draw.node(
      'state',
      ACTIONS.flatMap((action) => action.notes?.(state) ?? []),
    );
    for (const action of ACTIONS) action.drawEdges?.(state, draw, facts);
    if (facts.waits) waiting.push(name);
  }

  const globals = Object.entries(flow.intents ?? {}).flatMap(([intent, def]) =>
    def.global === undefined ? [] : [{ intent, to: def.global }],
  );
  if (globals.length > 0 && waiting.length > 0) {
    nodes.push({ name: ANY, kind: 'virtual', title: 'any waiting state', notes: [] });
    for (const { intent, to } of globals) edges.push({ from: ANY, to, label: intent, dashed: true });
  }

  const onGiveUp = flow.policy?.supervisor?.onGiveUp;
  if (onGiveUp !== undefined) {
    nodes.push({ name: GIVE_UP, kind: 'virtual', title: 'give up', notes: ['supervisor'] });
    edges.push({ from: GIVE_UP, to: onGiveUp, label: null, dashed: true });
  }

  const onMachine = flow.on?.machine;
  if (onMachine !== undefined) {
    nodes.push({ name: MACHINE, kind: 'virtual', title: 'answering machine', notes: ['after its greeting'] });
    edges.push({ from: MACHINE, to: onMachine, label: null, dashed: true });
  }

  // Without a fallback the machine apologises and hangs up; that exit gets a node of its own so a reader
  // sees that waiting states do not wait forever.
  const fallback = flow.policy?.fallback ?? END;
  if (fallback === END && waiting.length + fallingThrough.length + failing.length > 0) {
    nodes.push({ name: END, kind: 'hangup', title: 'could not continue', notes: ['hangup'] });
  }
  // One dashed edge from each waiting state rather than one from a shared note: a note would hide which
  // states can fall through (prompt-only states cannot), and the edges usually converge on a single goodbye
  // state, so they add little clutter. They come last so the layout is driven by the caller's own choices.
  for (const from of waiting) edges.push({ from, to: fallback, label: FALLBACK_LABEL, dashed: true });
  for (const from of fallingThrough) edges.push({ from, to: fallback, label: NO_CHOICE_LABEL, dashed: true });
  for (const from of failing) edges.push({ from, to: fallback, label: ERROR_LABEL, dashed: true });

  return { id: flow.id, nodes, edges };
}

/**
 * The edges of a target: one per choice, labelled with its condition (cut short) or "else" for a last choice
 * without one, after the input (`base`) that leads there.
 */
function targetLabels(target: Target, base: string | null): { to: string; label: string | null }[] {
  if (typeof target === 'string') return [{ to: target, label: base }];
  const only = target.length === 1 ? target[0] : undefined;
  if (only !== undefined && only.if === undefined) return [{ to: only.goto, label: base }];
  return target.map((choice) => {
    const condition = choice.if === undefined ? 'else' : shorten(choice.if.replace(/\s+/g, ' ').trim());
    return { to: choice.goto, label: base === null ? condition : `${base}: ${condition}` };
  });
}

function shorten(text: string): string {
  return text.length <= CONDITION_LABEL_MAX ? text : `${text.slice(0, CONDITION_LABEL_MAX - 1).trimEnd()}…`;
}

/** Only the text from the flow is escaped, so the parentheses around the notes stay readable. */
function labelLines(node: GraphNode, escape: (text: string) => string): string[] {
  return [escape(node.title), ...node.notes.map((note) => `(${escape(note)})`)];
}

// --- Mermaid ---

/**
 * A Mermaid node id for any name: `s_` plus the name with `_` doubled and every other character outside
 * [A-Za-z0-9] written `_<hex>_`. Injective, free of hyphens (which Mermaid reads as part of an arrow), and
 * the prefix keeps ids clear of keywords such as `end` and of the `o`/`x` arrow heads.
 */
export function mermaidId(name: string): string {
  if (name === START) return 'entry';
  if (name === END) return 'end_call';
  if (name === GIVE_UP) return 'giveup';
  if (name === MACHINE) return 'answering_machine';
  if (name === ANY) return 'any_waiting';
  const body = name.replace(/[^A-Za-z0-9]/g, (ch) =>
    ch === '_' ? '__' : `_${ch.charCodeAt(0).toString(16)}_`,
  );
  return `s_${body}`;
}

/** Text safe inside a quoted Mermaid label: `#` starts Mermaid's own entities, so it is escaped first. */
export function escapeMermaid(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/[#"<>&[\]{}()|`]/g, (ch) => `#${ch.charCodeAt(0)};`);
}

const MERMAID_SHAPES: Record<NodeKind, [string, string]> = {
  start: ['((', '))'],
  state: ['[', ']'],
  hangup: ['([', '])'],
  virtual: ['{{', '}}'],
};

export function toMermaid(flow: FlowFile): string {
  const graph = buildGraph(flow);
  const out = ['flowchart TD'];
  for (const node of graph.nodes) {
    const [open, close] = MERMAID_SHAPES[node.kind];
    const label = labelLines(node, escapeMermaid).join('<br/>');
    out.push(`  ${mermaidId(node.name)}${open}"${label}"${close}`);
  }
  for (const edge of graph.edges) {
    const arrow = edge.dashed ? '-.->' : '-->';
    const label = edge.label === null ? '' : `|"${escapeMermaid(edge.label)}"|`;
    out.push(`  ${mermaidId(edge.from)} ${arrow}${label} ${mermaidId(edge.to)}`);
  }
  return `${out.join('\n')}\n`;
}

// --- Graphviz dot ---

/** Text safe inside a double-quoted dot string; line breaks are added by the caller as `\n`. */
export function escapeDot(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/["\\]/g, (ch) => `\\${ch}`);
}

const DOT_ATTRS: Record<NodeKind, string> = {
  start: 'shape=point, width=0.2',
  state: '',
  // A double border marks where the call ends, in the spirit of a final state's double circle.
  hangup: 'peripheries=2',
  virtual: 'shape=hexagon, style=dashed',
};

export function toDot(flow: FlowFile): string {
  const graph = buildGraph(flow);
  const q = (text: string): string => `"${escapeDot(text)}"`;
  const out = [`digraph ${q(graph.id)} {`, '  rankdir=LR;', '  node [shape=box, style=rounded];'];
  for (const node of graph.nodes) {
    const label = `label="${labelLines(node, escapeDot).join('\\n')}"`;
    const attrs =
      node.kind === 'start' ? DOT_ATTRS.start : [label, DOT_ATTRS[node.kind]].filter(Boolean).join(', ');
    out.push(`  ${q(node.name)} [${attrs}];`);
  }
  for (const edge of graph.edges) {
    const attrs = [
      ...(edge.label === null ? [] : [`label=${q(edge.label)}`]),
      ...(edge.dashed ? ['style=dashed'] : []),
    ];
    out.push(`  ${q(edge.from)} -> ${q(edge.to)}${attrs.length > 0 ? ` [${attrs.join(', ')}]` : ''};`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
