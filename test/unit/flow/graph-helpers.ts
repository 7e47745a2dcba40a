/** Shared by the graph-*.test.ts files: the demo flow; mermaid and dot read back into comparable edges. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { validateFlow, type FlowFile } from '../../../src/flow/index.ts';

export const DEMO_PATH = new URL('../../../flows/demo.json', import.meta.url).pathname;

export async function demo(): Promise<FlowFile> {
  const result = validateFlow(JSON.parse(await readFile(DEMO_PATH, 'utf8')));
  assert.ok(result.ok);
  return result.flow;
}

/** An edge read back from a diagram, keyed by the nodes' first label lines so both formats compare. */
type Edge = string;
const edgeKey = (from: string, to: string, label: string | null, dashed: boolean): Edge =>
  `${from} -${dashed ? '.' : '-'}${label ?? ''}-> ${to}`;

const MERMAID_NODE = /^ {2}([A-Za-z0-9_]+)(\(\(|\(\[|\[|\{\{)"([^"]*)"(\)\)|\]\)|\]|\}\})$/;
const MERMAID_EDGE = /^ {2}([A-Za-z0-9_]+) (-->|-\.->)(?:\|"([^"]*)"\|)? ([A-Za-z0-9_]+)$/;

export function parseMermaid(text: string): {
  titles: Map<string, string>;
  edges: Edge[];
  shapes: Map<string, string>;
} {
  const lines = text.split('\n');
  assert.equal(lines[0], 'flowchart TD');
  assert.equal(lines.at(-1), '', 'ends with a newline');
  const titles = new Map<string, string>();
  const shapes = new Map<string, string>();
  const edges: Edge[] = [];
  for (const line of lines.slice(1, -1)) {
    const node = MERMAID_NODE.exec(line);
    const edge = MERMAID_EDGE.exec(line);
    if (node) {
      assert.ok(!titles.has(node[1]!), `node ${node[1]} declared once`);
      titles.set(node[1]!, node[3]!.split('<br/>')[0]!);
      shapes.set(node[1]!, node[2]!);
    } else if (edge) {
      const [, from, arrow, label, to] = edge;
      assert.ok(titles.has(from!) && titles.has(to!), `edge between declared nodes: ${line}`);
      edges.push(edgeKey(titles.get(from!)!, titles.get(to!)!, label ?? null, arrow === '-.->'));
    } else {
      assert.fail(`unexpected mermaid line: ${JSON.stringify(line)}`);
    }
  }
  return { titles, edges, shapes };
}

const DOT_STRING = String.raw`"((?:[^"\\]|\\.)*)"`;
const DOT_NODE = new RegExp(String.raw`^ {2}${DOT_STRING} \[(.*)\];$`);
const DOT_EDGE = new RegExp(String.raw`^ {2}${DOT_STRING} -> ${DOT_STRING}(?: \[(.*)\])?;$`);
const DOT_ATTR = new RegExp(String.raw`(\w+)=(?:${DOT_STRING}|([\w.]+))`, 'g');

function attrs(text: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of (text ?? '').matchAll(DOT_ATTR)) out.set(m[1]!, m[2] ?? m[3]!);
  return out;
}

export function parseDot(text: string): { id: string; titles: Map<string, string>; edges: Edge[] } {
  assert.ok(text.endsWith('}\n'), 'ends with the closing brace and a newline');
  let depth = 0;
  for (const ch of text.replace(new RegExp(DOT_STRING, 'g'), '""')) {
    if (ch === '{') depth += 1;
    if (ch === '}') depth -= 1;
    assert.ok(depth >= 0, 'braces never close before they open');
  }
  assert.equal(depth, 0, 'balanced braces');
  const lines = text.split('\n');
  const header = new RegExp(String.raw`^digraph ${DOT_STRING} \{$`).exec(lines[0]!);
  assert.ok(header, `digraph header: ${lines[0]}`);
  assert.equal(lines[1], '  rankdir=LR;');
  const titles = new Map<string, string>();
  const edges: Edge[] = [];
  for (const line of lines.slice(2, -2)) {
    const edge = DOT_EDGE.exec(line);
    const node = DOT_NODE.exec(line);
    if (edge) {
      const [, from, to, list] = edge;
      const a = attrs(list);
      assert.ok(titles.has(from!) && titles.has(to!), `edge between declared nodes: ${line}`);
      edges.push(
        edgeKey(titles.get(from!)!, titles.get(to!)!, a.get('label') ?? null, a.get('style') === 'dashed'),
      );
    } else if (node) {
      titles.set(node[1]!, (attrs(node[2]).get('label') ?? 'start').split('\\n')[0]!);
    } else if (line !== '  node [shape=box, style=rounded];') {
      assert.fail(`unexpected dot line: ${JSON.stringify(line)}`);
    }
  }
  return { id: header[1]!, titles, edges };
}
