/** Findings about a flow file, each located by a JSON pointer, and the small helpers every check uses. */

export interface Finding {
  /** Errors refuse the flow; warnings are reported and the flow still loads. */
  severity: 'error' | 'warning';
  /** JSON pointer into the flow file, e.g. `/states/confirm/on/dtmf:1`; `''` is the whole file. */
  pointer: string;
  message: string;
  hint?: string;
}

/** Report a finding at `pointer`. */
export type Add = (pointer: string, message: string, hint?: string) => void;
/** Check a text (a template) found at `at`. */
export type Check = (value: string, at: string) => void;

/** Build a finding, leaving `hint` out when there is none. */
export function finding(
  severity: Finding['severity'],
  pointer: string,
  message: string,
  hint?: string,
): Finding {
  return hint === undefined ? { severity, pointer, message } : { severity, pointer, message, hint };
}

export function unknownKeys(
  obj: Record<string, unknown>,
  allowed: ReadonlySet<string>,
  at: string,
  add: Add,
): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key))
      add(`${at}/${escapePointer(key)}`, `unknown property "${key}"`, `allowed: ${[...allowed].join(', ')}`);
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isPositiveInt(v: unknown, min: number, max: number): boolean {
  return Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
}

export function unescapePointer(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

/** RFC 6901 escaping of one pointer segment. */
export function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Non-empty text, or a finding. */
export function checkText(value: unknown, at: string, key: string, template: Check, add: Add): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || value.trim() === '') add(at, `${key} must be non-empty text`);
  else template(value, at);
}
