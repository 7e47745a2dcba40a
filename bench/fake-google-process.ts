/**
 * The local fake of Google's Speech and Text-to-Speech services (test/fakes/google-server.ts) in a process of its
 * own, so that under load it competes with the server for the CPU as Google's would not, but not with the load
 * generator's event loop. Every recognized turn is "yes". Prints `fake google on HOST:PORT`; runs until SIGTERM.
 * Usage: node --import tsx bench/fake-google-process.ts
 */
import { startFakeGoogle } from '../test/fakes/google-server.ts';

const google = await startFakeGoogle({ speech: { finalText: 'yes' } });
console.log(`fake google on ${google.host}:${google.port}`);
process.once('SIGTERM', () => void google.close().then(() => process.exit(0)));
