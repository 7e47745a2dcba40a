/** The energy VAD: always there, the last resort. */
import type { VadEntry } from '../engine-entry.ts';
import { openEnergyVad } from '../vad/energy.ts';

export const energy: VadEntry = {
  name: 'energy',
  label: 'energy',
  unavailable: null,
  open: () =>
    Promise.resolve({
      open: openEnergyVad,
      summary: 'energy',
      dropped: () => 0,
      close: () => Promise.resolve(),
    }),
};
