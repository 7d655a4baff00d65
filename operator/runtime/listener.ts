// The operator's HTTP listeners (health and metrics, the data use register, the admission
// webhooks) open and close the same way: here.
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** An HTTP server the Manager opens in `start()` (or fails to start) and closes on shutdown. */
export interface Listener {
  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Starts `server` listening on `port` at `host` (default every interface). Resolves with the
 * bound port (the one chosen, with port 0); rejects when the port is taken.
 */
export async function listenOn(server: HttpServer | HttpsServer, port: number, host = '0.0.0.0'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** Stops `server` accepting, closes its idle and open connections, and resolves once it has closed. */
export async function closeServer(server: HttpServer | HttpsServer | undefined): Promise<void> {
  if (!server) return;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
