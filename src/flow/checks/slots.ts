/** The check that a slot is stored on every path before a template or a condition reads it. */
import { ACTIONS, stateFacts } from '../actions/index.ts';
import { CALL_PREFIX } from '../call-info.ts';
import { parseCondition } from '../conditions.ts';
import { ENV_PREFIX, templateSlots } from '../template.ts';
import type { StateDef } from '../types.ts';
import { escapePointer, finding, type Finding } from '../validate/finding.ts';
import { collectDominators } from './dominators.ts';
import { Cut, LISTED, walk, type Graph } from './graph.ts';

/**
 * Slots collected in several states cost a walk of the flow each; past this many steps (walks x flow size)
 * the rest are skipped with a warning rather than keep a 5 MB flow waiting.
 */
export const SLOT_CHECK_BUDGET = 20_000_000;

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
  /** A prompt, or a request or number (not spoken, but an absent slot breaks it all the same). */
  spoken: boolean;
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
    const facts = stateFacts(def);
    for (const read of ACTIONS.flatMap((action) => action.reads?.(def, at, facts) ?? [])) {
      const { pointer, moment, spoken } = read;
      if (read.text !== undefined) {
        for (const { name } of templateSlots(read.text)) {
          // Environment variables and the call's own values are there from its start, never collected.
          if (name.startsWith(ENV_PREFIX) || name.startsWith(CALL_PREFIX)) continue;
          use(name, { state, pointer, moment, kind: 'template', spoken });
        }
      }
      if (read.condition !== undefined) {
        const parsed = parseCondition(read.condition);
        if (!parsed.ok) continue;
        for (const name of parsed.value.slots)
          use(name, { state, pointer, moment, kind: 'condition', spoken });
      }
    }
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
export function slotsBeforeCollected(graph: Graph): Finding[] {
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
    for (const action of ACTIONS) {
      const map = action.storesOnEntry ? setters : collectors;
      for (const slot of action.stores?.(def as Record<string, unknown>) ?? []) push(map, slot, state);
    }
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
            ? (storedNote(graph.defs[u.state]) ?? ' (its own prompt plays before the value is given)')
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
              `slot "${slot}" may be ${u.spoken ? 'spoken' : 'used'} before it is collected: ${via} never collects or sets it${own}`,
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

/** Paths spelled out in slot findings; each costs a walk of the flow. */
const MAX_PATHS = 50;

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

function storedNote(def: StateDef | undefined): string | undefined {
  if (def === undefined) return undefined;
  return ACTIONS.map((action) => action.storedNote?.(def)).find((note) => note !== undefined);
}
