/** The sixteen keys of a DTMF keypad: what a caller can press, and what Twilio reports. */
export const DTMF_KEYS = '0123456789*#ABCD';

/** Whether `key` is one DTMF key. */
export function isDtmfKey(key: string): boolean {
  return key.length === 1 && DTMF_KEYS.includes(key);
}
