/**
 * Escapes text for XML content and attribute values. Tab, newline and carriage return become character
 * references so attribute values keep them (parsers turn literal ones into spaces); other control characters,
 * which XML 1.0 forbids outright, become U+FFFD.
 */
export function escapeXml(text: string): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let rep: string;
    if (c === 38) rep = '&amp;';
    else if (c === 60) rep = '&lt;';
    else if (c === 62) rep = '&gt;';
    else if (c === 34) rep = '&quot;';
    else if (c === 39) rep = '&apos;';
    else if (c < 32) rep = c === 9 || c === 10 || c === 13 ? `&#${c};` : '\uFFFD';
    else continue;
    out += text.slice(last, i) + rep;
    last = i + 1;
  }
  return last === 0 ? text : out + text.slice(last);
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Beyond this no code point exists: String.fromCodePoint throws a RangeError for it. */
const MAX_CODE_POINT = 0x10ffff;

/**
 * The text an XML parser hands back: the five predefined entities and numeric references resolved. A reference
 * past the last code point is left as written, like an unknown entity.
 */
export function unescapeXml(text: string): string {
  return text.replace(/&(#\d+|#x[0-9a-fA-F]+|[a-z]+);/g, (match, ref: string) => {
    if (!ref.startsWith('#')) return ENTITIES[ref] ?? match;
    const code = ref.startsWith('#x') ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return code <= MAX_CODE_POINT ? String.fromCodePoint(code) : match;
  });
}
