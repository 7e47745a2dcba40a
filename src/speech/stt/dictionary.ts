/**
 * The pronouncing dictionary (CMUdict, 135,000 words), read once per decoder process. A decoder is started with
 * only the words its searches use, added as searches need them: pocketsphinx 5prealpha takes seconds to build a
 * small language model's search over the whole dictionary (5 s for 10 words, against 2 ms over 2,000), its cost
 * growing with the square of the dictionary's size.
 */
import { readFileSync } from 'node:fs';

export class Pronunciations {
  /** Word -> its pronunciations (phones separated by spaces), the dictionary's first one first. */
  readonly #words = new Map<string, string[]>();

  constructor(text: string) {
    for (const line of text.split('\n')) {
      const space = line.indexOf(' ');
      if (space <= 0) continue;
      let word = line.slice(0, space);
      const phones = line.slice(space + 1).trim();
      // Alternative pronunciations are spelled "word(2)"; a "#" starts a comment in some dictionaries.
      const hash = phones.indexOf('#');
      const clean = (hash >= 0 ? phones.slice(0, hash) : phones).trim();
      if (clean === '') continue;
      const alt = /^(.+)\(\d+\)$/.exec(word);
      if (alt) word = alt[1]!;
      const list = this.#words.get(word);
      if (list) list.push(clean);
      else this.#words.set(word, [clean]);
    }
  }

  static read(path: string): Pronunciations {
    return new Pronunciations(readFileSync(path, 'utf8'));
  }

  has(word: string): boolean {
    return this.#words.has(word);
  }

  /** The pronunciations of `word`; empty when it is not in the dictionary. */
  get(word: string): readonly string[] {
    return this.#words.get(word) ?? [];
  }

  /** Dictionary lines for `words` (alternatives as "word(2)"), for a decoder's initial dictionary file. */
  lines(words: Iterable<string>): string {
    let out = '';
    for (const word of new Set(words)) {
      this.get(word).forEach((phones, i) => (out += `${i === 0 ? word : `${word}(${i + 1})`} ${phones}\n`));
    }
    return out;
  }
}
