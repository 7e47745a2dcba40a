/**
 * What Google's Speech and Text-to-Speech clients share here: how they are pointed at an emulator or fake
 * (GOOGLE_API_ENDPOINT), and how their gRPC failures are read.
 */
import type { ClientOptions } from 'google-gax';

/** Where a client connects in plaintext instead of Google; null for Google itself. */
export type GoogleEndpoint = { host: string; port: number } | null;

/** gRPC status codes worth a retry: the service was busy or unreachable, not the request wrong. */
export const RETRYABLE_GRPC_CODES: ReadonlySet<number> = new Set([4, 8, 13, 14]);

const GRPC_CODE_NAMES: Readonly<Record<number, string>> = {
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  10: 'ABORTED',
  11: 'OUT_OF_RANGE',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  16: 'UNAUTHENTICATED',
};

/** The gRPC status code a client error carries, if any. */
export function grpcCodeOf(err: unknown): number | undefined {
  const raw = (err as { code?: unknown } | null)?.code;
  return typeof raw === 'number' ? raw : undefined;
}

/** A status code's name for messages, e.g. UNAVAILABLE. */
export function grpcCodeName(code: number | undefined): string {
  return code === undefined ? 'no gRPC status' : (GRPC_CODE_NAMES[code] ?? `code ${code}`);
}

/** Constructor options for either client: none for Google itself, plaintext to `endpoint` otherwise. */
export async function googleClientOptions(endpoint: GoogleEndpoint): Promise<ClientOptions> {
  if (!endpoint) return {};
  // google-gax's own grpc copy: credentials from another copy of @grpc/grpc-js are rejected.
  const { grpc } = await import('google-gax');
  return {
    apiEndpoint: endpoint.host,
    port: endpoint.port,
    sslCreds: grpc.credentials.createInsecure(),
    // Set, so the client does not probe the cloud metadata server (a 3 s stall off Google Cloud).
    universeDomain: 'googleapis.com',
  };
}

/**
 * A Google client made on first use and shared by every request; a creation that failed is not kept, so the next
 * use tries again. Closing closes the client if it was ever made.
 */
export class LazyClient<T extends { close(): Promise<void> }> {
  readonly #create: () => Promise<T>;
  #pending: Promise<T> | undefined;

  constructor(create: () => Promise<T>) {
    this.#create = create;
  }

  get(): Promise<T> {
    if (this.#pending) return this.#pending;
    const pending = this.#create();
    this.#pending = pending;
    pending.catch(() => {
      if (this.#pending === pending) this.#pending = undefined;
    });
    return pending;
  }

  async close(): Promise<void> {
    const pending = this.#pending;
    this.#pending = undefined;
    const client = await pending?.catch(() => undefined);
    await client?.close();
  }
}
