/** The condition language's syntax tree (see ../conditions.ts for the grammar). */

/** A value written in the condition itself. */
export type Literal =
  { kind: 'string'; value: string } | { kind: 'number'; value: number } | { kind: 'boolean'; value: boolean };

/** A slot, or what the call knows of itself: `call.direction` is `{ kind: 'callValue', name: 'direction' }`. */
export type Operand = Literal | { kind: 'slot'; name: string } | { kind: 'callValue'; name: string };

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

export type Condition =
  | { kind: 'constant'; value: boolean }
  | { kind: 'present'; slot: string }
  | { kind: 'compare'; op: CompareOp; left: Operand; right: Operand }
  | { kind: 'in'; negated: boolean; value: Operand; list: Literal[] }
  | { kind: 'not'; condition: Condition }
  | { kind: 'and'; conditions: Condition[] }
  | { kind: 'or'; conditions: Condition[] };

export interface ParsedCondition {
  condition: Condition;
  /** Distinct slot names referenced, in order of appearance. */
  slots: string[];
  /** Distinct `call.` names referenced (without the prefix), in order of appearance; unknown ones included. */
  calls: string[];
}

export type ConditionParse =
  { ok: true; value: ParsedCondition } | { ok: false; message: string; offset: number };

export const CONDITION_LIMITS = { maxLength: 500, maxDepth: 32, maxOperands: 64 } as const;
