export * from './types.ts';
export * from './events.ts';
export * from './template.ts';
export * from './validate.ts';
export * from './compile.ts';
export * from './parse.ts';
export * from './checks.ts';
export * from './report.ts';
