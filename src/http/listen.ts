// Listening on the configured address, answering the URL bound (port 0 picks
// one). The system's refusals (the port taken by another process, a privileged
// port, an address of no interface here) become SERVER_CANNOT_LISTEN, saying
// what to change, instead of a stack trace.
import type { FastifyInstance } from 'fastify';
import { ProvenantError } from '../errors.js';

const WHY: Record<string, string> = {
  EADDRINUSE: 'the port is in use (another process listens there: stop it, or choose another port)',
  EACCES: 'permission denied (ports below 1024 need privileges: choose a port of 1024 or more)',
  EADDRNOTAVAIL: 'no network interface of this machine has that address',
};

/** The variables (or options) that set the address, for the message. */
export interface ListenVariables {
  host: string;
  port: string;
}

/** Listens, and answers the URL it bound (`http://127.0.0.1:8080`, `https://[::1]:8443`). */
export async function listenOn(
  app: FastifyInstance,
  host: string,
  port: number,
  variables: ListenVariables,
  protocol: 'http' | 'https' = 'http',
): Promise<string> {
  try {
    await app.listen({ host, port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === undefined ? undefined : WHY[code];
    if (why === undefined) throw error;
    throw new ProvenantError(
      'SERVER_CANNOT_LISTEN',
      `cannot listen on ${host}:${port}: ${why}; the address is set by ${variables.host} and ${variables.port}`,
      { cause: error, details: { host, port, code } },
    );
  }
  const address = app.server.address();
  return typeof address === 'object' && address !== null
    ? `${protocol}://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
    : String(address);
}
