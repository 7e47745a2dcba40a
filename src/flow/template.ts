/**
 * Prompt templates: `{{slot}}` inserts a slot's value, `{{slot|digits}}` spells digits out one by one so a
 * voice reads "5 5 5 1 2" rather than "fifty-five thousand five hundred and twelve".
 */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w.]*)\s*(?:\|\s*([a-z]+)\s*)?\}\}/g;

export const TEMPLATE_FILTERS = ['digits'] as const;

/** Render a prompt template against the call's slots; missing slots render as empty text. */
export function renderTemplate(template: string, slots: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (_match, name: string, filter: string | undefined) => {
    const value = slots[name] ?? '';
    return filter === 'digits' ? spellDigits(value) : value;
  });
}

/** The slot names a template refers to, with their filters. */
export function templateSlots(template: string): { name: string; filter: string | undefined }[] {
  const out: { name: string; filter: string | undefined }[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) if (m[1]) out.push({ name: m[1], filter: m[2] });
  return out;
}

const KEY_WORDS: Record<string, string> = { '*': 'star', '#': 'pound' };

/** "5551234" -> "5, 5, 5, 1, 2, 3, 4": commas make synthesizers pause between digits. */
export function spellDigits(value: string): string {
  return [...value].map((ch) => KEY_WORDS[ch] ?? ch).join(', ');
}
