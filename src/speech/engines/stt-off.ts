/** STT=off: no recognition; flows run on the keypad. */
import type { SttEntry } from '../engine-entry.ts';

export const sttOff: SttEntry = {
  name: 'off',
  embedded: true,
  fallback: null,
  requires: null,
  help: 'off',
  unavailable: 'STT_UNAVAILABLE',
  offSummary: 'speech recognition off (STT=off): flows run on the keypad',
  open: () => Promise.resolve(null),
};
