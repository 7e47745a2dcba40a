/**
 * A web request's URL from its template. The flow's own text and its `{{env.NAME}}` values are taken as written:
 * they choose the scheme, host and port. Every other value (a slot: what a caller said or keyed, or what a service
 * answered; a `{{call.NAME}}`: the numbers the call came from and went to) is encoded for the part of the URL it
 * lands in, so it stays inside its path segment or query component: `/`, `?`, `#`, `&` and `=` in it are data,
 * and it can never change the host. Such a value in the host is a validation finding (`slotsInAuthority`);
 * should one get there anyway it renders as nothing.
 */
import { templateParts } from '../../template.ts';

export type UrlPart = 'authority' | 'path' | 'query' | 'fragment';

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
/** What ends the authority; a backslash is a slash to the URL parser in http and https URLs. */
const AUTHORITY_END = /[/?#\\]/;
/** An unpaired UTF-16 surrogate, which encodeURIComponent refuses with an exception. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The part of a URL that text appended to `before` lands in. */
export function urlPartAfter(before: string): UrlPart {
  const scheme = SCHEME.exec(before);
  if (!scheme) return 'authority';
  const rest = before.slice(scheme[0].length);
  if (!AUTHORITY_END.test(rest)) return 'authority';
  if (rest.includes('#')) return 'fragment';
  if (rest.includes('?')) return 'query';
  return 'path';
}

/**
 * Render URL template `template`; `value` renders one placeholder (`{{name|filter}}`) with the call's slots and
 * environment.
 */
export function renderUrl(template: string, value: (placeholder: string) => string): string {
  let out = '';
  for (const part of templateParts(template)) {
    if (part.kind === 'text' || part.fromEnv) out += part.kind === 'text' ? part.text : value(part.text);
    else out += encodeFor(urlPartAfter(out), value(part.text));
  }
  return out;
}

/** A slot's (or the call's) value as it may appear in `part` of a URL. */
export function encodeFor(part: UrlPart, value: string): string {
  // Only the flow and the environment choose where a request goes.
  if (part === 'authority') return '';
  // The same encoding serves a path segment, a query component and a fragment: it leaves only letters, digits
  // and - _ . ! ~ * ' ( ) as they are.
  return encodeURIComponent(value.replace(LONE_SURROGATE, '\uFFFD'));
}

/**
 * The slots and `call.` names (not `env.` values) a URL template places in its scheme, host or port, where a
 * caller's value could send the request elsewhere. An `{{env.NAME}}` before the first `/`, `?` or `#` of the
 * flow's own text may be a whole base URL, so what follows it directly is in the authority too.
 */
export function slotsInAuthority(template: string): string[] {
  let text = '';
  const found: string[] = [];
  for (const part of templateParts(template)) {
    if (part.kind === 'text') text += part.text;
    else if (part.fromEnv) text += SCHEME.test(text) ? 'env' : 'http://env';
    else if (urlPartAfter(text) === 'authority') found.push(part.name);
  }
  return found;
}

/**
 * Whether the path of `url` (as rendered, before a URL parser sees it) has a `.` or `..` segment, in any
 * percent-encoded form: the parser would drop it or climb a level, so the request would reach another path.
 */
export function hasDotSegment(url: string): boolean {
  const scheme = SCHEME.exec(url);
  const rest = scheme ? url.slice(scheme[0].length) : url;
  const start = rest.search(AUTHORITY_END);
  if (start < 0) return false;
  const path = rest.slice(start).split(/[?#]/, 1)[0] ?? '';
  return path.split(/[/\\]/).some((segment) => /^(?:\.|%2e){1,2}$/i.test(segment));
}
