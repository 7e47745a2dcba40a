/**
 * The flow the load benchmarks call: a short question whose answers lead back to it, so each "yes" a caller says
 * is a turn. The fallback keeps a call going when recognition fails several times in a row.
 */
export const YES_NO_FLOW = {
  id: 'bench',
  version: 1,
  start: 'ask',
  states: { ask: { say: 'Yes or no?', on: { yes: 'ask', no: 'ask' } } },
  policy: { noInputMs: 60_000, maxRetries: 10, fallback: 'ask' },
};
