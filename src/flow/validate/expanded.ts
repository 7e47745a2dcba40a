/**
 * The static checks (checks.ts) run on the flow as the machine runs it, sub-flows expanded; a finding about a
 * copied state points into the sub-flow and names the calling state.
 */
import { staticChecks } from '../checks.ts';
import { parseCondition } from '../conditions.ts';
import { expand, originalPointer } from '../subflows.ts';
import type { FlowFile, TargetChoice } from '../types.ts';
import { escapePointer, finding, isObject, unescapePointer, type Finding } from './finding.ts';

export function expandedChecks(flow: FlowFile): Finding[] {
  const { flow: expanded, copies } = expand(flow);
  const out: Finding[] = [];
  const locate = (f: Finding): Finding => {
    const { pointer, origin } = originalPointer(f.pointer, copies);
    if (origin === null) return f;
    return finding(
      f.severity,
      pointer,
      `${f.message} (sub-flow "${origin.subflow}" called from "${origin.caller}")`,
      f.hint,
    );
  };
  // A merged condition joins two that parse, but may pass the limits on length, depth or operands.
  for (const [name, origin] of copies) {
    const def = expanded.states[name];
    for (const key of origin.merged) {
      // `key` is the target's pointer inside the state.
      let to: unknown = def;
      for (const segment of key.split('/')) {
        to =
          isObject(to) && Object.hasOwn(to, unescapePointer(segment))
            ? to[unescapePointer(segment)]
            : undefined;
      }
      if (!Array.isArray(to)) continue;
      for (const choice of to as TargetChoice[]) {
        const parsed = choice.if === undefined ? null : parseCondition(choice.if);
        if (parsed === null || parsed.ok) continue;
        out.push(
          locate(
            finding(
              'error',
              `/states/${escapePointer(name)}/${key}`,
              `joined with the conditions of "${origin.caller}"'s next, a condition is too large: ${parsed.message}`,
              "shorten the conditions, or return to a decision state that holds the caller's choices",
            ),
          ),
        );
        break;
      }
    }
  }
  return [...out, ...staticChecks(expanded).map(locate)];
}
