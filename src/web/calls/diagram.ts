/**
 * A flow's diagram as inline SVG, with the path one call took marked: the nodes and edges of flow/graph.ts,
 * laid out top-down in layers by breadth-first depth from the start. Pure; every text from the flow is escaped.
 */
import { buildGraph, type GraphEdge, type GraphNode } from '../../flow/graph.ts';
import type { FlowFile } from '../../flow/index.ts';
import { escapeHtml } from './escape.ts';

const LAYER_GAP = 96;
const NODE_HEIGHT = 40;
const NODE_GAP = 24;
const MARGIN = 20;
const CHAR_WIDTH = 7;
/** Labels are cut to this many characters so one long note cannot widen the drawing without bound. */
const LABEL_MAX = 36;

interface Placed {
  node: GraphNode;
  x: number;
  y: number;
  width: number;
}

export interface Diagram {
  svg: string;
  /** States of the call's path with no node in the flow (a state since removed or renamed). */
  unknownStates: string[];
}

/**
 * The flow's diagram with `path` (the states a call was in, in order) marked: each state visited gets class
 * `visited`, each edge between consecutive states `taken`.
 */
export function flowDiagram(flow: FlowFile, path: readonly string[]): Diagram {
  const graph = buildGraph(flow);
  const names = new Set(graph.nodes.map((n) => n.name));
  const start = graph.nodes.find((n) => n.kind === 'start')?.name;
  const visited = new Set(path.filter((s) => names.has(s)));
  if (start !== undefined && path.length > 0) visited.add(start);
  const taken = takenEdges(graph.edges, start, path);
  const placed = layout(graph.nodes, graph.edges, start);
  const width = Math.max(...[...placed.values()].map((p) => p.x + p.width), 200) + MARGIN;
  const height = Math.max(...[...placed.values()].map((p) => p.y + NODE_HEIGHT), 100) + MARGIN;

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="flow-diagram" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(`flow ${flow.id}`)}">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/></marker></defs>',
  ];
  for (const [i, edge] of graph.edges.entries()) {
    const from = placed.get(edge.from);
    const to = placed.get(edge.to);
    if (!from || !to || edge.from === edge.to) continue;
    const classes = ['edge', edge.dashed ? 'dashed' : '', taken.has(i) ? 'taken' : '']
      .filter(Boolean)
      .join(' ');
    const [x1, y1, x2, y2] = [from.x + from.width / 2, from.y + NODE_HEIGHT, to.x + to.width / 2, to.y];
    // Edges going up or sideways bend out to the right so they do not run through the nodes between.
    const d =
      y2 > y1
        ? `M ${x1} ${y1} L ${x2} ${y2}`
        : `M ${x1} ${y1} C ${Math.max(x1, x2) + 80} ${y1 + 40}, ${Math.max(x1, x2) + 80} ${y2 - 40}, ${x2} ${y2}`;
    const label = edge.label === null ? '' : `<title>${escapeHtml(edge.label)}</title>`;
    out.push(
      `<g class="${classes}" data-from="${escapeHtml(edge.from)}" data-to="${escapeHtml(edge.to)}">${label}<path d="${d}" marker-end="url(#arrow)"/></g>`,
    );
  }
  for (const p of placed.values()) {
    const { node } = p;
    const classes = ['node', node.kind, visited.has(node.name) ? 'visited' : ''].filter(Boolean).join(' ');
    const rx = node.kind === 'state' ? 6 : NODE_HEIGHT / 2;
    const lines = [node.title, ...node.notes.map((n) => `(${n})`)].map((l) => cut(l));
    const text = lines
      .slice(0, 2)
      .map((l, j) => {
        const y = p.y + (lines.length > 1 ? 16 + j * 14 : 24);
        return `<text x="${p.x + p.width / 2}" y="${y}"${j > 0 ? ' class="note"' : ''}>${escapeHtml(l)}</text>`;
      })
      .join('');
    out.push(
      `<g class="${classes}" data-state="${escapeHtml(node.name)}"><title>${escapeHtml(lines.join(' '))}</title>` +
        `<rect x="${p.x}" y="${p.y}" width="${p.width}" height="${NODE_HEIGHT}" rx="${rx}"/>${text}</g>`,
    );
  }
  out.push('</svg>');
  return { svg: out.join('\n'), unknownStates: [...new Set(path.filter((s) => !names.has(s)))] };
}

/** Indices of the edges between consecutive states of the path (and from the start to its first state). */
function takenEdges(
  edges: readonly GraphEdge[],
  start: string | undefined,
  path: readonly string[],
): Set<number> {
  const steps: [string, string][] = [];
  if (start !== undefined && path[0] !== undefined) steps.push([start, path[0]]);
  for (let i = 1; i < path.length; i += 1) {
    const [from, to] = [path[i - 1]!, path[i]!];
    if (from !== to) steps.push([from, to]);
  }
  const taken = new Set<number>();
  for (const [from, to] of steps) {
    let index = edges.findIndex((e) => e.from === from && e.to === to && !e.dashed);
    if (index < 0) index = edges.findIndex((e) => e.from === from && e.to === to);
    // A global intent is drawn once, from the node standing for every waiting state.
    if (index < 0) index = edges.findIndex((e) => e.from.startsWith('$') && e.to === to && e.from !== start);
    if (index >= 0) taken.add(index);
  }
  return taken;
}

/** Layers by breadth-first depth from the start; nodes it does not reach (virtual ones) start layers of their own. */
function layout(
  nodes: readonly GraphNode[],
  edges: readonly GraphEdge[],
  start: string | undefined,
): Map<string, Placed> {
  const depth = new Map<string, number>();
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const bfs = (root: string, at: number): void => {
    if (depth.has(root)) return;
    depth.set(root, at);
    const queue = [root];
    while (queue.length > 0) {
      const name = queue.shift()!;
      for (const to of next.get(name) ?? []) {
        if (depth.has(to)) continue;
        depth.set(to, depth.get(name)! + 1);
        queue.push(to);
      }
    }
  };
  if (start !== undefined) bfs(start, 0);
  for (const n of nodes) bfs(n.name, 0);
  const layers: GraphNode[][] = [];
  for (const n of nodes) (layers[depth.get(n.name) ?? 0] ??= []).push(n);
  const placed = new Map<string, Placed>();
  layers.forEach((layer, i) => {
    let x = MARGIN;
    for (const node of layer) {
      const longest = Math.max(
        ...[node.title, ...node.notes.map((n) => `(${n})`)].slice(0, 2).map((l) => cut(l).length),
      );
      const width = Math.max(80, longest * CHAR_WIDTH + 20);
      placed.set(node.name, { node, x, y: MARGIN + i * LAYER_GAP, width });
      x += width + NODE_GAP;
    }
  });
  return placed;
}

function cut(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= LABEL_MAX ? flat : `${flat.slice(0, LABEL_MAX - 1)}…`;
}
