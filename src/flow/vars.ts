/**
 * Which variables a flow reads through `call.vars.NAME`: an outbound call must be dialled with each of them, or
 * a prompt would speak a blank where a name or a date belongs.
 */
import { CALL_PREFIX, VAR_NAME, varOf } from './call-info.ts';
import { parseCondition } from './conditions.ts';
import { flowReads } from './flow-reads.ts';
import { templateSlots } from './template.ts';
import type { FlowFile } from './types.ts';

/** The variables a flow's templates and conditions read, sorted, each once. */
export function flowVarNames(flow: FlowFile): string[] {
  const names = new Set<string>();
  // `name` is what follows `call.`; a malformed variable (refused by validation) is no name a dialler can give.
  const add = (name: string): void => {
    const variable = varOf(name);
    if (variable !== undefined && VAR_NAME.test(variable)) names.add(variable);
  };
  const { templates, conditions } = flowReads(flow);
  for (const text of templates) {
    for (const { name } of templateSlots(text))
      if (name.startsWith(CALL_PREFIX)) add(name.slice(CALL_PREFIX.length));
  }
  for (const source of conditions) {
    const parsed = parseCondition(source);
    if (parsed.ok) parsed.value.calls.forEach(add);
  }
  return [...names].sort();
}
