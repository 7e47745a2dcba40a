/** Shared by the validate-*.test.ts files: the fixture flows, checking one, and building small flows. */
import { readFile } from 'node:fs/promises';
import { checkFlowText, type Finding, type FlowFile, type StateDef } from '../../../src/flow/index.ts';

export const fixture = (name: string): string =>
  new URL(`../../fixtures/flows/${name}`, import.meta.url).pathname;
export const demoPath = new URL('../../../flows/demo.json', import.meta.url).pathname;

export async function check(name: string) {
  return checkFlowText(await readFile(fixture(name), 'utf8'));
}

export const errors = (findings: Finding[]): Finding[] => findings.filter((f) => f.severity === 'error');
export const at = (findings: Finding[], pointer: string): Finding[] =>
  findings.filter((f) => f.pointer === pointer);

export function flowOf(states: Record<string, StateDef>, extra: Partial<FlowFile> = {}): FlowFile {
  return { id: 't', version: 1, start: Object.keys(states)[0] ?? '', states, ...extra };
}
