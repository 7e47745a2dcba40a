import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { validateFlow, type FlowFile } from '../../../src/flow/index.ts';
import { flowDiagram } from '../../../src/web/calls/diagram.ts';

async function flow(name: string): Promise<FlowFile> {
  const result = validateFlow(
    JSON.parse(await readFile(new URL(`../../../flows/${name}.json`, import.meta.url), 'utf8')),
  );
  assert.ok(result.ok);
  return result.flow;
}

/** Checks tags nest and close (a small well-formedness check: no XML parser among the dependencies). */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g)) {
    const [, closing, name, , selfClosing] = m;
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the element last opened`);
    else stack.push(name!);
  }
  assert.deepEqual(stack, [], 'every element is closed');
  // Nothing that looks like a tag is left unmatched by the pattern above.
  const tags = svg.match(/<[^>]*>/g) ?? [];
  const matched = svg.match(/<\/?[A-Za-z][\w:-]*(?:\s+[\w:-]+="[^"<]*")*\s*\/?>/g) ?? [];
  assert.equal(matched.length, tags.length, 'every tag has well-formed, quoted attributes');
  assert.ok(!/&(?!amp;|lt;|gt;|quot;|#39;)/.test(svg), 'every ampersand is an entity');
}

const nodesOf = (svg: string): Map<string, string> =>
  new Map([...svg.matchAll(/<g class="([^"]*)" data-state="([^"]*)"/g)].map((m) => [m[2]!, m[1]!]));

test('the demo diagram has every state once, the visited ones and the edges taken marked', async () => {
  const demo = await flow('demo');
  const { svg, unknownStates } = flowDiagram(demo, [
    'menu',
    'callback',
    'confirm',
    'callback',
    'confirm',
    'thanks',
  ]);
  assertWellFormed(svg);
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  const nodes = nodesOf(svg);
  for (const state of Object.keys(demo.states)) {
    assert.equal(svg.split(`data-state="${state}"`).length - 1, 1, `${state} drawn once`);
  }
  const visited = [...nodes].filter(([, cls]) => cls.split(' ').includes('visited')).map(([n]) => n);
  assert.deepEqual(visited.filter((n) => !n.startsWith('$')).sort(), [
    'callback',
    'confirm',
    'menu',
    'thanks',
  ]);
  assert.ok(!nodes.get('hours')!.includes('visited'));
  assert.ok(!nodes.get('goodbye')!.includes('visited'));
  const taken = [
    ...svg.matchAll(/<g class="edge[^"]*taken[^"]*" data-from="([^"]*)" data-to="([^"]*)"/g),
  ].map((m) => `${m[1]}>${m[2]}`);
  assert.deepEqual(
    taken.sort(),
    ['$start>menu', 'callback>confirm', 'confirm>callback', 'confirm>thanks', 'menu>callback'].sort(),
  );
  assert.deepEqual(unknownStates, []);
});

test('a path through states the flow no longer has is reported, and nothing is marked for them', async () => {
  const demo = await flow('demo');
  const { svg, unknownStates } = flowDiagram(demo, ['menu', 'gone']);
  assert.deepEqual(unknownStates, ['gone']);
  assert.ok(!svg.includes('data-state="gone"'));
  assert.ok(nodesOf(svg).get('menu')!.includes('visited'));
});

test('state names and notes with markup are escaped and the SVG stays well formed', async () => {
  const demo = await flow('demo');
  const evil = '<script>x</script>&"';
  const states = { ...demo.states, [evil]: { say: 'hi', hangup: true } } as FlowFile['states'];
  states.menu = { ...states.menu!, on: { 'dtmf:1': 'hours', 'dtmf:2': 'callback', 'dtmf:3': evil } };
  const { svg } = flowDiagram({ ...demo, states }, ['menu', evil]);
  assertWellFormed(svg);
  assert.ok(!svg.includes('<script'));
  assert.ok(svg.includes('&lt;script&gt;x&lt;/script&gt;&amp;&quot;'));
  assert.ok(nodesOf(svg).get('&lt;script&gt;x&lt;/script&gt;&amp;&quot;')!.includes('visited'));
});

test('the pizza flow (web requests, sub-flows, global intents) lays out with no two nodes overlapping', async () => {
  const pizza = await flow('pizza');
  const { svg } = flowDiagram(pizza, []);
  assertWellFormed(svg);
  assert.ok(!svg.includes('visited'), 'nothing is marked for an empty path');
  const rects = [...svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)].map(
    (m) => m.slice(1, 5).map(Number),
  );
  assert.ok(rects.length > 5);
  for (const [i, a] of rects.entries()) {
    for (const b of rects.slice(i + 1)) {
      const apart =
        a[0]! + a[2]! <= b[0]! || b[0]! + b[2]! <= a[0]! || a[1]! + a[3]! <= b[1]! || b[1]! + b[3]! <= a[1]!;
      assert.ok(apart, `nodes at ${a.join(',')} and ${b.join(',')} overlap`);
    }
  }
});
