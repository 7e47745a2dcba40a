/**
 * A phone number in E.164 form, as Twilio takes it: `+`, a country code that does not start with 0, and 7 to 15
 * digits in all.
 */
export const E164 = /^\+[1-9]\d{6,14}$/;

export function isE164(number: string): boolean {
  return E164.test(number);
}
