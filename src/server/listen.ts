/** Binding the server's port, with a failure said in words: the port taken, the address not this machine's. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SwitchboardError } from '../errors.ts';

/** Why the server cannot listen, by the system's code. */
const LISTEN_FAILURES: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is in use by another process',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'the address is not one of this machine',
};

/**
 * Listen on `host:port`; resolves with the bound address. Rejects with CONFIG_INVALID when the address cannot be
 * used, its system code in `data.systemCode`.
 */
export async function listenOn(server: Server, port: number, host: string): Promise<AddressInfo> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? null;
    const why = (code && LISTEN_FAILURES[code]) ?? (err as Error).message;
    const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const data = { host, port, systemCode: code };
    throw new SwitchboardError('CONFIG_INVALID', `cannot listen on ${where}: ${why}`, data, { cause: err });
  }
  return server.address() as AddressInfo;
}
