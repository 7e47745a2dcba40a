import { words } from '../normalize.ts';

// Phrases are normalized (no apostrophes). The longest phrase at a position wins, so "no problem" is a yes
// and "not sure" is neither.
const YES = [
  'yes',
  'yeah',
  'yea',
  'yep',
  'yup',
  'ya',
  'yah',
  'sure',
  'correct',
  'right',
  'exactly',
  'absolutely',
  'definitely',
  'certainly',
  'affirmative',
  'ok',
  'okay',
  'alright',
  'all right',
  'of course',
  'uh huh',
  'mm hmm',
  'mhm',
  'mmhmm',
  'mm hm',
  'you bet',
  'you got it',
  'i think so',
  'that works',
  'perfect',
  'sounds right',
  'sounds good',
  'go ahead',
  'please do',
  'no problem',
  'no worries',
  'why not',
];
const NO = [
  'no',
  'nope',
  'nah',
  'negative',
  'wrong',
  'incorrect',
  'not really',
  'not at all',
  'no way',
  'no thanks',
  'no thank you',
  'not quite',
  'nuh uh',
  'negatory',
  'never',
  'i dont think so',
];
const NEITHER = ['not sure', 'dont know', 'no idea', 'maybe', 'not yet sure'];
// A negation before a yes phrase makes it a no: "that's not right", "it isn't correct".
const NEGATIONS = new Set(['not', 'dont', 'isnt', 'arent', 'wasnt', 'doesnt', 'didnt', 'never']);

type Kind = 'yes' | 'no' | 'neither';

const PHRASES: readonly { tokens: readonly string[]; kind: Kind }[] = [
  ...YES.map((p) => ({ tokens: p.split(' '), kind: 'yes' as const })),
  ...NO.map((p) => ({ tokens: p.split(' '), kind: 'no' as const })),
  ...NEITHER.map((p) => ({ tokens: p.split(' '), kind: 'neither' as const })),
].sort((a, b) => b.tokens.length - a.tokens.length);

function phraseAt(tokens: readonly string[], i: number): { kind: Kind; end: number } | null {
  for (const phrase of PHRASES) {
    if (phrase.tokens.every((t, k) => tokens[i + k] === t))
      return { kind: phrase.kind, end: i + phrase.tokens.length };
  }
  return null;
}

/** Whether the utterance says yes, says no, or neither (also when it says both). */
export function polarity(text: string): 'yes' | 'no' | null {
  const tokens = words(text);
  let yes = false;
  let no = false;
  for (let i = 0; i < tokens.length;) {
    const phrase = phraseAt(tokens, i);
    if (phrase !== null) {
      yes ||= phrase.kind === 'yes';
      no ||= phrase.kind === 'no';
      i = phrase.end;
      continue;
    }
    const negated = NEGATIONS.has(tokens[i] ?? '') ? phraseAt(tokens, i + 1) : null;
    if (negated !== null) {
      if (negated.kind !== 'neither') no = true;
      i = negated.end;
      continue;
    }
    i++;
  }
  return yes === no ? null : yes ? 'yes' : 'no';
}
