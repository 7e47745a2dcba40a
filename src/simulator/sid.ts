/** Twilio-style identifiers: a two-letter prefix (CA call, AC account, MZ stream) and 32 hex digits. */
import { randomBytes } from 'node:crypto';

export const randomSid = (prefix: string): string => prefix + randomBytes(16).toString('hex');
