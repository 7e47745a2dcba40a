/**
 * Generates flows/flow.schema.json, the JSON Schema (2020-12) of a flow file, from the `FlowFile` type in
 * src/flow/types.ts and its JSDoc tags. `--check` exits 1 when the committed file differs from a fresh
 * generation.
 *
 *   node --import tsx scripts/flow-schema.ts [--check]
 */
import { readFile, writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { createGenerator } from 'ts-json-schema-generator';
import { BUILTIN_ENTITY_NAMES, DEFAULT_POLICY } from '../src/flow/types.ts';
import { ACTIONS, STATE_KEYS, type FlowAction, type SchemaContext } from '../src/flow/actions/index.ts';

export const SCHEMA_FILE = fileURLToPath(new URL('../flows/flow.schema.json', import.meta.url));
const TYPES_FILE = fileURLToPath(new URL('../src/flow/types.ts', import.meta.url));
const TSCONFIG = fileURLToPath(new URL('../tsconfig.json', import.meta.url));

const SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';
const SCHEMA_ID = 'urn:switchboard:flow';

type Schema = { [key: string]: unknown };

/** The schema of a flow file, as an object. */
export function buildFlowSchema(): Schema {
  const generated = createGenerator({
    path: TYPES_FILE,
    tsconfig: TSCONFIG,
    type: 'FlowFile',
    expose: 'export',
    topRef: false,
    jsDoc: 'extended',
    additionalProperties: false,
    sortProps: false,
    // tsc checks the types; the generator only needs to read them.
    skipTypeCheck: true,
  }).createSchema('FlowFile') as Schema;

  const { $schema: _draft07, definitions, description, ...root } = generated;
  const schema = obj(
    rewriteRefs({
      $schema: SCHEMA_DIALECT,
      $id: SCHEMA_ID,
      title: 'Switchboard flow',
      description,
      ...root,
      $defs: definitions,
    }),
    'the root',
  );
  const defs = obj(schema.$defs, '$defs');
  addRules(schema, defs);
  addPolicyDefaults(def(defs, 'FlowPolicy'), def(defs, 'SupervisorPolicy'));
  return schema;
}

/** The schema file's text, formatted as prettier formats the repository. */
export async function flowSchemaText(): Promise<string> {
  const options = (await resolveConfig(SCHEMA_FILE)) ?? {};
  // Indented first: prettier keeps an object expanded when its source is, which reads better than one-liners.
  return format(JSON.stringify(buildFlowSchema(), null, 2), { ...options, filepath: SCHEMA_FILE });
}

/**
 * Rules of validate.ts the types cannot say: how keys combine (each action's own, see actionRules), non-empty lists and texts, names that are
 * taken, URL, number and JSON pointer shapes. What a schema cannot check at all (targets naming existing
 * states, intents and entities being defined, conditions parsing, slots used before they are collected, min
 * not above max, environment variable names inside templates, header names repeated in another case) stays
 * with validate.ts.
 */
function addRules(schema: Schema, defs: Schema): void {
  const properties = obj(schema.properties, 'properties');
  // Any state name, or "$return" (validate.ts allows it only inside a sub-flow).
  const targetName = '^(?:[A-Za-z][A-Za-z0-9_-]{0,63}|\\$return)$';
  const text = { type: 'string', minLength: 1, pattern: '\\S' };

  // Built-in entities need no definition and cannot be redefined.
  obj(obj(properties.entities, 'entities').propertyNames, 'entities.propertyNames').not = {
    enum: [...BUILTIN_ENTITY_NAMES],
  };
  const intentExamples = obj(
    obj(def(defs, 'IntentDef').properties, 'IntentDef.properties').examples,
    'examples',
  );
  intentExamples.items = text;
  const values = obj(obj(def(defs, 'EntityDef').properties, 'EntityDef.properties').values, 'values');
  values.propertyNames = text;
  values.additionalProperties = { type: 'array', items: text };

  // A target is a state name or a non-empty list of choices; the types cannot carry either constraint.
  const [name, list] = arr(def(defs, 'Target').anyOf, 'Target.anyOf');
  obj(name, 'Target.anyOf[0]').pattern = targetName;
  obj(list, 'Target.anyOf[1]').minItems = 1;
  const choice = obj(def(defs, 'TargetChoice').properties, 'TargetChoice.properties');
  obj(choice.goto, 'TargetChoice.goto').pattern = targetName;
  obj(choice.if, 'TargetChoice.if').pattern = '\\S';

  // The policy's apologies may be empty (no apology before the prompt); a list must have an entry.
  obj(arr(def(defs, 'RetryPrompt').anyOf, 'RetryPrompt.anyOf')[1], 'RetryPrompt.anyOf[1]').minItems = 1;

  actionRules(defs, text);
}

/**
 * Each action's rules (src/flow/actions/): keys that need others, the rule that a state has a way out (any one
 * action's), and the rules on how the action's keys combine with the others.
 */
function actionRules(defs: Schema, text: Schema): void {
  const state = def(defs, 'StateDef');
  const stateProps = obj(state.properties, 'StateDef.properties');
  const keysOf = (pick: (action: FlowAction) => boolean): string[] =>
    ACTIONS.filter(pick).map((action) => action.name);
  const ctx: SchemaContext = {
    has: (key) => ({ required: [key] }),
    hangsUp: { required: ['hangup'], properties: { hangup: { const: true } } },
    text,
    stateKeys: STATE_KEYS,
    waiting: keysOf((action) => action.waits !== undefined),
    acting: keysOf((action) => action.acts !== undefined),
    def: (name) => def(defs, name),
    property: (key) => obj(stateProps[key], `StateDef.${key}`),
  };
  const rules = ACTIONS.map((action) => action.schema?.(ctx) ?? {});
  state.dependentRequired = Object.assign({}, ...rules.map((r) => r.requires ?? {})) as Schema;
  const exits = rules.flatMap((r) => (r.exit === undefined ? [] : [r.exit]));
  const ways = rules.flatMap((r) => (r.exit === undefined ? [] : [r.exitText ?? '']));
  state.allOf = [
    { description: `A state needs a way out: ${ways.join(', ')}.`, anyOf: exits },
    ...rules.flatMap((r) => r.state ?? []),
  ];
}

/** Defaults come from DEFAULT_POLICY, so the schema cannot drift from what compile.ts fills in. */
function addPolicyDefaults(policy: Schema, supervisor: Schema): void {
  const fill = (target: Schema, defaults: object): void => {
    const properties = obj(target.properties, 'properties');
    for (const [key, value] of Object.entries(defaults)) {
      const property = properties[key];
      if (typeof value !== 'object' && property !== undefined) obj(property, key).default = value;
    }
  };
  fill(policy, DEFAULT_POLICY);
  fill(supervisor, DEFAULT_POLICY.supervisor);
}

/** Draft-07 `#/definitions/X` becomes 2020-12 `#/$defs/X` everywhere. */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (typeof value !== 'object' || value === null) return value;
  const out: Schema = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === '$ref' && typeof v === 'string') {
      if (!v.startsWith('#/definitions/')) throw new Error(`unexpected $ref ${v}`);
      out[key] = `#/$defs/${v.slice('#/definitions/'.length)}`;
    } else {
      out[key] = rewriteRefs(v);
    }
  }
  return out;
}

function def(defs: Schema, name: string): Schema {
  return obj(defs[name], `$defs/${name}`);
}

function arr(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`expected an array at ${what} in the generated schema`);
  return value;
}

function obj(value: unknown, what: string): Schema {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`expected an object at ${what} in the generated schema`);
  }
  return value as Schema;
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const text = await flowSchemaText();
  const shown = relative(process.cwd(), SCHEMA_FILE);
  if (!check) {
    await writeFile(SCHEMA_FILE, text);
    console.log(`wrote ${shown}`);
    return;
  }
  const current = await readFile(SCHEMA_FILE, 'utf8').catch(() => null);
  if (current === text) {
    console.log(`${shown} is up to date`);
    return;
  }
  console.error(`${shown} is out of date with src/flow/types.ts; run npm run schema`);
  process.exitCode = 1;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
