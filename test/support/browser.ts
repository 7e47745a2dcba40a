/**
 * Headless Chromium for the softphone's tests and benchmark: a browser whose fake microphone plays a WAV, and a
 * page that places a call the way a person would (pick the flow, press Call). Chromium is Debian's `chromium`
 * (`CHROMIUM_PATH` to use another).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

/** A browser whose microphone plays `wav` once (`%noloop`) from the moment a page asks for it. */
export function launchWithMicrophone(wav: string): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // Chromium's own --headless (not Playwright's headless shell mode): the fake audio device works in it.
    headless: false,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${wav}%noloop`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/** The errors the page reports (console errors and uncaught exceptions), as they happen. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (err) => errors.push(String(err)));
  return errors;
}

/** Open the softphone at `url`, call `flow` and wait until the call is live. */
export async function callFromPage(page: Page, url: string, flow: string): Promise<void> {
  await page.goto(url + '/');
  await page.locator('#flow option').first().waitFor({ state: 'attached' });
  await page.selectOption('#flow', flow);
  // Tests hear the WAV as it is: no echo cancellation, noise suppression or gain control.
  await page.uncheck('#echo');
  await page.click('#call');
  await page.waitForFunction(
    () => (globalThis as unknown as { softphone: { state: string } }).softphone.state === 'live',
  );
}
