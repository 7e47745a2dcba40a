/**
 * The human report of a flow's findings, shared by `switchboard validate` and the server when it refuses a
 * flow: one line per finding, errors first, then a summary.
 */
import type { Finding } from './validate.ts';

/** Lines shown per file; a flow with thousands of findings would otherwise bury the first, useful ones. */
export const MAX_REPORTED = 200;

/** One finding as a report line: `flows/pizza.json: error /states/x/next unknown state "y" (hint: ...)`. */
export function formatFinding(file: string, f: Finding): string {
  const where = f.pointer === '' ? '' : ` ${f.pointer}`;
  const hint = f.hint === undefined ? '' : ` (hint: ${f.hint})`;
  return `${file}: ${f.severity}${where} ${f.message}${hint}`;
}

/** Count of errors and warnings, e.g. `2 errors, 1 warning`. */
export function summarize(findings: readonly Finding[]): string {
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.length - errors;
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  return `${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
}

/** The report for one file: errors, then warnings, then a summary line. */
export function formatFindings(file: string, findings: readonly Finding[]): string {
  if (findings.length === 0) return `${file}: ok`;
  const sorted = [
    ...findings.filter((f) => f.severity === 'error'),
    ...findings.filter((f) => f.severity !== 'error'),
  ];
  const lines = sorted.slice(0, MAX_REPORTED).map((f) => formatFinding(file, f));
  if (sorted.length > MAX_REPORTED) lines.push(`${file}: ... ${sorted.length - MAX_REPORTED} more not shown`);
  lines.push(`${file}: ${summarize(findings)}`);
  return lines.join('\n');
}
