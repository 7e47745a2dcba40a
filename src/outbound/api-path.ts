/** Where the calls API takes dial requests: the server serves it, `switchboard dial` and campaigns post to it. */
export const CALLS_API_PATH = '/api/calls';
