export * from './types.ts';
export * from './events.ts';
export * from './template.ts';
export * from './validate.ts';
export * from './compile.ts';
export * from './parse.ts';
export * from './checks.ts';
export * from './report.ts';
export * from './env.ts';
export { flowVarNames } from './vars.ts';
export * from './call-info.ts';
export * from './spoken-templates.ts';
export { expandSubflows } from './subflows.ts';
export { waitsForInput } from './route.ts';
export * from './suggest.ts';
export {
  effectKey,
  endOfTurnMs,
  expectedInput,
  interrupts,
  stateFacts,
  type Expected,
  runEffect,
  spokenPrompt,
  TALLIES,
  HANDOVER_EFFECTS,
  type SpokenPrompt,
  type Tally,
  httpOutcomeEvent,
  performHttp,
  resolvePointer,
  type ActionLog,
  type ActionPorts,
  type HttpActionOptions,
  type HttpEffect,
  type HttpNetwork,
  type HttpOutcome,
  type RecordAction,
  type RecordEffect,
  type RecordOutcome,
  type WarmTransferRequest,
} from './actions/index.ts';
