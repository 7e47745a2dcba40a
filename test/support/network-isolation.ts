/**
 * Whether this machine can run tests with networking blocked except loopback (`unshare --net`, as root or with
 * user namespaces), and whether this process is such a run. offline.test.ts runs the Google engines' end-to-end
 * tests that way; where it can, the ordinary run leaves them to it rather than run them twice.
 */
import { spawnSync } from 'node:child_process';

/** Set in the environment of the tests offline.test.ts runs. */
export const OFFLINE_ENV = 'SWITCHBOARD_TEST_OFFLINE';

const isolation = spawnSync('unshare', ['--net', 'sh', '-c', 'ip link set lo up'], { encoding: 'utf8' });

/** Why networking cannot be blocked here, or null when it can. */
export const noIsolation: string | null =
  isolation.error !== undefined
    ? isolation.error.message
    : isolation.status !== 0
      ? isolation.stderr.trim()
      : null;

/**
 * For a test offline.test.ts also runs: the reason to skip it in this run (it runs with networking blocked
 * instead), or false to run it here.
 */
export const leftToOfflineRun: string | false =
  noIsolation === null && process.env[OFFLINE_ENV] !== '1'
    ? 'run by offline.test.ts with networking blocked except loopback'
    : false;
