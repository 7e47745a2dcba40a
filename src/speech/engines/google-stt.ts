/**
 * Google Cloud Speech-to-Text: STT=google with GOOGLE_API_ENDPOINT, GOOGLE_STT_API, GOOGLE_CLOUD_PROJECT,
 * GOOGLE_STT_LOCATION and GOOGLE_STT_MODEL; fails over to pocketsphinx.
 */
import type { SttEntry } from '../engine-entry.ts';

export const googleStt: SttEntry = {
  name: 'google',
  embedded: false,
  fallback: 'pocketsphinx',
  requires: null,
  help: 'google',
  unavailable: 'STT_UNAVAILABLE',
  async open({ config, logger }) {
    // Loaded only when chosen: Google's client costs a few hundred ms to import.
    const { GoogleStt } = await import('../stt/google.ts');
    return new GoogleStt({
      endpoint: config.googleEndpoint,
      logger,
      api: config.googleSttApi,
      location: config.googleSttLocation,
      ...(config.googleCloudProject ? { project: config.googleCloudProject } : {}),
      ...(config.googleSttModel ? { model: config.googleSttModel } : {}),
    });
  },
};
