/**
 * Every template and condition of a flow, wherever it is: its states', its sub-flows', its own (the keys actions
 * own at its top) and its policy's. What a call captures of the environment when it starts (env.ts) and what a
 * dialler must give it (vars.ts) are found in these.
 */
import { ACTIONS, stateFacts } from './actions/index.ts';
import type { FlowFile, StateDef } from './types.ts';

export interface FlowReads {
  templates: string[];
  conditions: string[];
}

export function flowReads(flow: FlowFile): FlowReads {
  const templates: string[] = [];
  const conditions: string[] = [];
  const states: [string, StateDef][] = [
    ...Object.entries(flow.states),
    ...Object.values(flow.subflows ?? {}).flatMap((sub) => Object.entries(sub.states)),
  ];
  for (const [state, def] of states) {
    const facts = stateFacts(def);
    for (const read of ACTIONS.flatMap((action) => action.reads?.(def, state, facts) ?? [])) {
      if (read.text !== undefined) templates.push(read.text);
      if (read.condition !== undefined) conditions.push(read.condition);
    }
  }
  for (const read of ACTIONS.flatMap((action) => action.flowKeyReads?.(flow) ?? [])) {
    if (read.text !== undefined) templates.push(read.text);
  }
  const policy = flow.policy;
  for (const prompt of [policy?.noInputSay, policy?.noMatchSay]) {
    if (typeof prompt === 'string') templates.push(prompt);
    else if (prompt !== undefined) templates.push(...prompt);
  }
  for (const text of [policy?.speechFailover?.say, policy?.speechFailover?.keypadSay]) {
    if (text !== undefined) templates.push(text);
  }
  return { templates, conditions };
}
