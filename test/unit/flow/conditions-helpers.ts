/** Shared by the conditions-*.test.ts files: parse a condition that must parse; evaluate one from source. */
import assert from 'node:assert/strict';
import { evaluateCondition, parseCondition, type ParsedCondition } from '../../../src/flow/conditions.ts';

export function parsed(source: string): ParsedCondition {
  const result = parseCondition(source);
  assert.ok(result.ok, `${source}: ${result.ok ? '' : `${result.offset}: ${result.message}`}`);
  return result.value;
}

export function evaluate(source: string, slots: Record<string, string>): boolean {
  return evaluateCondition(parsed(source).condition, slots);
}
