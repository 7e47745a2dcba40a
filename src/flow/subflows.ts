/**
 * Sub-flows are expanded before a flow is compiled: each calling state gets its own copy of the sub-flow's
 * states, named `caller--state`, so the router and the machine only ever see plain states. A user's state
 * names cannot contain `--` (validate.ts), so a copy never collides with one, and marks read
 * "askAddress--street.7" in logs.
 */
import { ACTIONS } from './actions/index.ts';
import type { FlowFile, StateDef, SubflowDef, Target, TargetChoice } from './types.ts';

/** The target that leaves a sub-flow for the calling state's `next`. */
export const RETURN = '$return';
export const COPY_SEPARATOR = '--';

/** The name of a calling state's copy of one sub-flow state. */
export function copyName(caller: string, state: string): string {
  return `${caller}${COPY_SEPARATOR}${state}`;
}

/** Where a copied state came from. */
export interface CopyOrigin {
  caller: string;
  subflow: string;
  state: string;
  /**
   * Targets (`next`, `onError`, `on/<input>`, as pointer tails) whose choices were merged with the caller's
   * conditional `next`, so their choice indexes no longer match the file.
   */
  merged: Set<string>;
}

export interface Expansion {
  flow: FlowFile;
  /** Copied state name -> where it came from. */
  copies: Map<string, CopyOrigin>;
}

/** The flow with every `call` replaced by a copy of the sub-flow; a flow without sub-flows comes back as is. */
export function expandSubflows(flow: FlowFile): FlowFile {
  return expand(flow).flow;
}

/** Expand a structurally valid flow, keeping track of where each copied state came from. */
export function expand(flow: FlowFile): Expansion {
  const copies = new Map<string, CopyOrigin>();
  if (flow.subflows === undefined) return { flow, copies };
  const { subflows, ...rest } = flow;
  const states: Record<string, StateDef> = {};
  for (const [name, def] of Object.entries(flow.states)) {
    const called = callOf(def, (first) => copyName(name, first), subflows);
    if (called === undefined) {
      states[name] = def;
      continue;
    }
    const { subflow, sub, ret } = called;
    states[name] = called.state;
    for (const [state, subDef] of Object.entries(sub.states)) {
      const merged = new Set<string>();
      const map = (target: Target, key: string): Target => {
        const out = mapTarget(target, (to) => copyName(name, to), ret);
        if (out.merged) merged.add(key);
        return out.target;
      };
      const copy: StateDef = structuredClone(subDef);
      for (const action of ACTIONS) action.mapTargets?.(subDef, copy, map);
      const copied = copyName(name, state);
      states[copied] = copy;
      copies.set(copied, { caller: name, subflow, state, merged });
    }
  }
  return { flow: { ...rest, states }, copies };
}

/** The sub-flow `def` calls, with the state that replaces the caller, or undefined when it calls none. */
function callOf(
  def: StateDef,
  copyOf: (first: string) => string,
  subflows: Readonly<Record<string, SubflowDef>>,
): { subflow: string; sub: SubflowDef; ret: Target; state: StateDef } | undefined {
  for (const action of ACTIONS) {
    const name = action.callsInto?.(def, '')?.subflow;
    const sub = name === undefined ? undefined : subflows[name];
    if (name === undefined || sub === undefined) continue;
    const called = action.callsInto?.(def, copyOf(sub.start));
    if (called) return { ...called, sub };
  }
  return undefined;
}

/**
 * A sub-flow target with its own states renamed and `$return` replaced by the caller's `next`. A choice leading
 * to `$return` when that `next` is itself a list becomes the caller's choices, each also under the choice's
 * own condition; when none of the caller's may hold, later choices are guarded by the negated condition, so
 * the merged list falls through exactly when the two-step choice would.
 */
function mapTarget(
  target: Target,
  rename: (to: string) => string,
  ret: Target,
): { target: Target; merged: boolean } {
  if (typeof target === 'string') return { target: target === RETURN ? ret : rename(target), merged: false };
  const out: TargetChoice[] = [];
  const guards: string[] = [];
  let merged = false;
  for (const choice of target) {
    if (choice.goto !== RETURN) {
      out.push(makeChoice([...guards, choice.if], rename(choice.goto)));
    } else if (typeof ret === 'string') {
      out.push(makeChoice([...guards, choice.if], ret));
    } else {
      merged = true;
      for (const back of ret) out.push(makeChoice([...guards, choice.if, back.if], back.goto));
      if (ret.every((back) => back.if !== undefined)) {
        // Unconditional: the choices after it were never taken, and none of the caller's may hold.
        if (choice.if === undefined) break;
        guards.push(`!(${choice.if})`);
      }
    }
  }
  return { target: out, merged };
}

function makeChoice(conditions: (string | undefined)[], goto: string): TargetChoice {
  const parts = conditions.filter((c): c is string => c !== undefined);
  if (parts.length === 0) return { goto };
  return { if: parts.length === 1 ? parts[0] : parts.map((p) => `(${p})`).join(' && '), goto };
}

/**
 * A finding's pointer into the expanded flow, as a pointer into the file: a copied state's findings point at
 * the sub-flow's state, and name the calling state.
 */
export function originalPointer(
  pointer: string,
  copies: ReadonlyMap<string, CopyOrigin>,
): { pointer: string; origin: CopyOrigin | null } {
  const match = /^\/states\/([^/]*)(.*)$/.exec(pointer);
  const origin = match === null ? undefined : copies.get(unescape(match[1] ?? ''));
  if (match === null || origin === undefined) return { pointer, origin: null };
  let tail = match[2] ?? '';
  for (const key of origin.merged) {
    if (tail.startsWith(`/${key}/`)) tail = `/${key}`;
  }
  return {
    pointer: `/subflows/${escape(origin.subflow)}/states/${escape(origin.state)}${tail}`,
    origin,
  };
}

function escape(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

function unescape(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}
