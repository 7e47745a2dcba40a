/**
 * Forks one pocketsphinx decoder process (pocketsphinx.child.ts). Under tsx (this file is .ts) the child is
 * TypeScript too and loads tsx's loader by absolute URL, whatever the working folder; compiled to .js, the sibling
 * .js is forked. Nothing of this process's own execArgv (an inspector port, say) is passed on. 'advanced'
 * serialization carries the audio as Int16Arrays, without base64.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A new decoder process, not yet set up: the engine sends it its `setup` message. */
export function forkDecoder(): ChildProcess {
  const ts = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(
    new URL(ts ? './pocketsphinx.child.ts' : './pocketsphinx.child.js', import.meta.url),
  );
  return fork(entry, [], {
    execArgv: ts ? ['--import', import.meta.resolve('tsx')] : [],
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
}
