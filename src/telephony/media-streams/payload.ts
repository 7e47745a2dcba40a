/** Media payloads: padded standard base64, checked without a regex and decoded without allocating. */
import { SwitchboardError } from '../../errors.ts';

// Base64 alphabet lookup: 1 for A-Z a-z 0-9 + /, 0 otherwise.
const BASE64_CHARS = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
  BASE64_CHARS[c.charCodeAt(0)] = 1;
const EQUALS = 61;

/** True when `s` is padded standard base64 (RFC 4648 section 4), the form Twilio sends and expects. */
export function isBase64(s: string): boolean {
  const len = s.length;
  if (len % 4 !== 0) return false;
  // Up to two '=' only at the very end.
  let end = len;
  if (end > 0 && s.charCodeAt(end - 1) === EQUALS) end--;
  if (end > 0 && s.charCodeAt(end - 1) === EQUALS) end--;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || BASE64_CHARS[c] !== 1) return false;
  }
  return true;
}

/**
 * Decodes a base64 payload into `dst` without allocating and returns the number of bytes written; throws
 * MEDIA_BAD_PAYLOAD when the decoded audio would not fit (Buffer#write would silently truncate it).
 */
export function decodePayloadInto(payload: string, dst: Buffer): number {
  const len = payload.length;
  let padding = 0;
  if (len > 0 && payload.charCodeAt(len - 1) === EQUALS) padding++;
  if (len > 1 && payload.charCodeAt(len - 2) === EQUALS) padding++;
  const needed = Math.floor((len * 3) / 4) - padding;
  if (needed > dst.length) {
    throw new SwitchboardError('MEDIA_BAD_PAYLOAD', 'decoded payload does not fit the buffer', {
      needed,
      capacity: dst.length,
    });
  }
  return dst.write(payload, 0, needed, 'base64');
}
