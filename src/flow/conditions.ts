/**
 * Transition conditions: a small declarative language over slot values, e.g. `size == "large" && count >= 2`.
 * Sources are parsed into a JSON-serialisable AST and interpreted; nothing is ever handed to `eval`.
 *
 *   condition  := or
 *   or         := and (("||" | "or") and)*
 *   and        := unary (("&&" | "and") unary)*
 *   unary      := ("!" | "not") unary | "(" condition ")" | test
 *   test       := operand [ ("==" | "!=" | "<" | "<=" | ">" | ">=") operand | ["not"] "in" list ]
 *   list       := "[" [ literal ("," literal)* ] "]"
 *   operand    := slot | "call." name | literal
 *   literal    := "text" | 'text' | number | true | false
 *
 * A bare slot is true when the slot has a non-empty value. Absent slots read as "". `call.direction`, `call.from`,
 * `call.to`, `call.answeredBy` and `call.vars.NAME` read what the call knows of itself (call-info.ts); a bare one
 * holds when it is non-empty.
 */

export * from './conditions/types.ts';
export { parseCondition } from './conditions/parser.ts';
export { evaluateCondition } from './conditions/evaluate.ts';
export { conditionCalls, conditionSlots, formatCondition } from './conditions/inspect.ts';
