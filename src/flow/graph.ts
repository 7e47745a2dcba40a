/**
 * A flow's states and transitions as a diagram: Mermaid (GitHub renders it inside ```mermaid fences) or
 * Graphviz dot. Both formats are drawn from one list of nodes and edges, so they always show the same graph.
 * The edges are the transitions the compiled machine can take (see compile.ts), not every key in the file:
 * `next` is never followed from a state that hangs up or branches with `on`, so it is not drawn there.
 */
import type { CollectDef, FlowFile } from './types.ts';

export type GraphFormat = 'mermaid' | 'dot';
export const GRAPH_FORMATS: readonly GraphFormat[] = ['mermaid', 'dot'];

export const FALLBACK_LABEL = 'no input / no match';

/** Internal node names; `$` cannot occur in a state name, so these never collide with one. */
const START = '$start';
const GIVE_UP = '$giveUp';

type NodeKind = 'start' | 'state' | 'hangup';

interface GraphNode {
  name: string;
  kind: NodeKind;
  title: string;
  /** Second label line, drawn in parentheses: what the state does besides speaking. */
  note: string | null;
}

interface GraphEdge {
  from: string;
  to: string;
  label: string | null;
  /** The policy fallback, taken when retries run out; drawn dashed. */
  fallback: boolean;
}

interface Graph {
  id: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** Draw a validated flow in the given format; the text ends with a newline. */
export function flowGraph(flow: FlowFile, format: GraphFormat): string {
  return format === 'dot' ? toDot(flow) : toMermaid(flow);
}

function buildGraph(flow: FlowFile): Graph {
  const nodes: GraphNode[] = [{ name: START, kind: 'start', title: 'start', note: null }];
  const edges: GraphEdge[] = [{ from: START, to: flow.start, label: null, fallback: false }];
  const waiting: string[] = [];

  for (const [name, state] of Object.entries(flow.states)) {
    if (state.hangup === true) {
      nodes.push({ name, kind: 'hangup', title: name, note: 'hangup' });
      continue;
    }
    const note = state.collect ? `collect ${describeCollect(state.collect)}` : null;
    nodes.push({ name, kind: 'state', title: name, note });

    if (state.on) {
      for (const [input, to] of Object.entries(state.on)) {
        edges.push({ from: name, to, label: input.replace(/^dtmf:/, ''), fallback: false });
      }
    } else if (state.next !== undefined) {
      edges.push({ from: name, to: state.next, label: state.collect ? 'done' : null, fallback: false });
    }
    if (state.on || state.collect) waiting.push(name);
  }

  // Without a fallback the machine apologises and hangs up; that exit gets a node of its own so a reader
  // sees that waiting states do not wait forever.
  const fallback = flow.policy?.fallback ?? GIVE_UP;
  if (fallback === GIVE_UP && waiting.length > 0) {
    nodes.push({ name: GIVE_UP, kind: 'hangup', title: 'give up', note: 'hangup' });
  }
  // One dashed edge from each waiting state rather than one from a shared note: a note would hide which
  // states can fall through (prompt-only states cannot), and the edges usually converge on a single goodbye
  // state, so they add little clutter. They come last so the layout is driven by the caller's own choices.
  for (const from of waiting) edges.push({ from, to: fallback, label: FALLBACK_LABEL, fallback: true });

  return { id: flow.id, nodes, edges };
}

function describeCollect(collect: CollectDef): string {
  const { min = 1, max, terminator } = collect.digits;
  const count =
    max === undefined
      ? `${min}+ digits`
      : min === max
        ? `${max} digit${max === 1 ? '' : 's'}`
        : `${min}-${max} digits`;
  return `${collect.slot}: ${count}${terminator === undefined ? '' : `, ${terminator}`}`;
}

/** Only the text from the flow is escaped, so the parentheses around the note stay readable. */
function labelLines(node: GraphNode, escape: (text: string) => string): string[] {
  return node.note === null ? [escape(node.title)] : [escape(node.title), `(${escape(node.note)})`];
}

// --- Mermaid ---

/**
 * A Mermaid node id for any name: `s_` plus the name with `_` doubled and every other character outside
 * [A-Za-z0-9] written `_<hex>_`. Injective, free of hyphens (which Mermaid reads as part of an arrow), and
 * the prefix keeps ids clear of keywords such as `end` and of the `o`/`x` arrow heads.
 */
export function mermaidId(name: string): string {
  if (name === START) return 'entry';
  if (name === GIVE_UP) return 'giveup';
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
    const arrow = edge.fallback ? '-.->' : '-->';
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
      ...(edge.fallback ? ['style=dashed'] : []),
    ];
    out.push(`  ${q(edge.from)} -> ${q(edge.to)}${attrs.length > 0 ? ` [${attrs.join(', ')}]` : ''};`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
