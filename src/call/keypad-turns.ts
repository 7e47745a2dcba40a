/**
 * The caller's keypad entries as turns of a call's live view. Keys reach the flow one at a time; while it collects
 * a digit entry it holds the digits typed so far in its context (`digits`), and clears them when the entry is
 * over (its terminator, its last digit, a pause, a no-match). A menu key is an entry of one key. So each key is
 * shown at once as the entry so far, and once the flow has taken a key and holds no digits, the keys it took are
 * one caller turn, shown with the state and slots they led to.
 *
 * The session tells it each key as it is delivered, and the context after each event the flow has handled, in
 * order. Only viewed calls use it: the keys are personal data, for the page that placed the call.
 */
import type { CallContext, CallEvent } from '../flow/index.ts';
import type { CallViewEvent } from './call-view.ts';

type Published<T extends CallViewEvent['type']> = Extract<CallViewEvent, { type: T }>;

export class KeypadTurns {
  /** Keys of the open entry, in order: delivered to the flow, and not yet part of a finished turn. */
  #keys = '';
  /** How many of them the flow has handled. */
  #handled = 0;
  /** The context before the open entry's first key was handled. */
  #before: CallContext | null = null;
  /** The context after the last event handled. */
  #last: CallContext | null = null;

  /** A key was delivered to the flow: the entry so far. */
  pressed(digit: string, at: number): Published<'keys'> {
    this.#keys += digit;
    return { type: 'keys', at, keys: this.#keys };
  }

  /**
   * The flow has handled `event` (null: events the caller did not cause, such as the call's start) and is now at
   * `ctx`. Returns the keypad turn this finished, if any.
   */
  handled(event: CallEvent | null, ctx: CallContext | null, at: number): Published<'turn'> | null {
    const before = this.#last;
    this.#last = ctx;
    if (event?.type === 'dtmf') {
      if (this.#handled === 0) this.#before = before;
      this.#handled += 1;
    }
    if (this.#handled === 0 || ctx === null || ctx.digits !== '') return null;
    const keys = this.#keys.slice(0, this.#handled);
    this.#keys = this.#keys.slice(this.#handled);
    this.#handled = 0;
    const start = this.#before;
    const slots: Record<string, string> = {};
    for (const [name, value] of Object.entries(ctx.slots)) {
      if (start?.slots[name] !== value) slots[name] = value;
    }
    const retry = start !== null && start.state === ctx.state && ctx.retries > start.retries;
    return { type: 'turn', at, via: 'keypad', text: keys, state: ctx.state, slots, retry };
  }
}
