/**
 * `say`: the state's prompt, with `ssml` (the same prompt marked up), `bargeIn` (whether the caller may cut it
 * short) and `resumeSay` (said instead after a restart). Its effects are `say` (speak, then send a mark so the
 * machine learns when the caller has heard it) and `clear` (stop what is playing: a barge-in).
 */
import type { FlowAction, Journaled } from './action.ts';
import type { SayEffect } from './format/say.ts';
export type { SayFields, ResumeFields, SayEffect } from './format/say.ts';

/** The effect that speaks a prompt. */
export function sayEffect(text: string, mark: string, ssml?: string, voice?: string): SayEffect {
  const effect: SayEffect = { type: 'say', text, mark };
  if (ssml !== undefined) effect.ssml = ssml;
  if (voice) effect.voice = voice;
  return effect;
}

export const CLEAR_EFFECT: SayEffect = { type: 'clear' };

const SSML_DOCUMENT = /^\s*<speak[\s>][\s\S]*<\/speak>\s*$/;

/** Text made safe inside SSML. */
export function escapeSsml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export const say: FlowAction = {
  name: 'say',
  keys: ['say', 'ssml', 'bargeIn', 'resumeSay'],
  example: { say: 'Welcome to Pizza Place.', next: 'menu' },

  schema: () => ({ requires: { ssml: ['say'] } }),

  interrupts(def, by) {
    const bargeIn = def.bargeIn ?? true;
    return by === 'speech' ? bargeIn === true : bargeIn !== false;
  },

  validate({ state, at, error, template }) {
    if (state.bargeIn !== undefined && typeof state.bargeIn !== 'boolean' && state.bargeIn !== 'dtmf')
      error(`${at}/bargeIn`, 'bargeIn must be true, false or "dtmf"');
    for (const key of ['say', 'resumeSay'] as const) {
      const text = state[key];
      if (text === undefined) continue;
      if (typeof text !== 'string' || text.trim() === '')
        error(`${at}/${key}`, `${key} must be non-empty text`);
      else template(text, `${at}/${key}`);
    }
    if (state.ssml !== undefined) {
      if (typeof state.ssml !== 'string' || !SSML_DOCUMENT.test(state.ssml)) {
        error(
          `${at}/ssml`,
          'ssml must be one <speak>...</speak> document',
          'e.g. "<speak>Hello <break time=\\"300ms\\"/> there</speak>"',
        );
      } else {
        const problem = ssmlProblem(state.ssml);
        if (problem !== null) error(`${at}/ssml`, `ssml is not well-formed: ${problem}`);
        else template(state.ssml, `${at}/ssml`);
      }
      if (state.say === undefined)
        error(`${at}/ssml`, 'ssml needs "say" too: the plain text for engines without SSML');
    }
  },

  reads(def, at) {
    return [
      { pointer: `${at}/say`, text: def.say, moment: 'state', spoken: true },
      { pointer: `${at}/ssml`, text: def.ssml, moment: 'state', spoken: true },
      { pointer: `${at}/resumeSay`, text: def.resumeSay, moment: 'state', spoken: true },
    ];
  },

  prompt(def, confirming) {
    if (confirming || def.say === undefined) return undefined;
    return def.ssml === undefined ? { text: def.say } : { text: def.say, ssml: def.ssml };
  },

  resumePrompt: (def) => def.resumeSay,

  describe: {
    say: (_m, text) => ({ kind: 'prompt', title: `said “${text('text')}”`, detail: `mark ${text('mark')}` }),
    clear: () => ({ kind: 'prompt', title: 'audio cleared (barge-in)', detail: null }),
  },

  run: {
    say: (effect, ports) => {
      if (effect.type === 'say') ports.speak(effect);
    },
    clear: (_effect, ports) => ports.clear(),
  },

  journalKeys: {
    say: (effect, callId) => `${callId}:${effect.mark}`,
    clear: (_effect, callId) => `${callId}:clear`,
  },

  prompts: {
    say: (effect) => ({ mark: field(effect, 'mark'), text: field(effect, 'text') }),
  },
};

/** A field of a journaled effect as text; '' when it is not (a journal may come from another build). */
function field(effect: Journaled, key: string): string {
  const value = effect[key];
  return typeof value === 'string' ? value : '';
}

/**
 * Why `ssml` is not well-formed XML as far as a prompt needs (tags balanced and properly nested, no stray `<` or
 * `&`), or null. Templates are left in: their values are escaped when rendered.
 */
function ssmlProblem(ssml: string): string | null {
  const open: string[] = [];
  const token =
    /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|<|&(?![a-z]+;|#\d+;|#x[0-9a-fA-F]+;)/g;
  for (const m of ssml.matchAll(token)) {
    if (m[2] === undefined)
      return m[0] === '<'
        ? `a "<" that starts no tag at offset ${m.index}`
        : `a bare "&" at offset ${m.index} (write &amp;)`;
    if (m[4] === '/') continue;
    if (m[1] === '/') {
      const expected = open.pop();
      if (expected !== m[2])
        return `</${m[2]}> at offset ${m.index} closes ${expected ? `<${expected}>` : 'nothing'}`;
    } else open.push(m[2]);
  }
  return open.length === 0 ? null : `<${open.at(-1)}> is never closed`;
}
