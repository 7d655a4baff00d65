// The operator's health endpoints: liveness, readiness and Prometheus metrics.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenOn, type Listener } from './listener.ts';
import type { Logger } from './logger.ts';
import type { OperatorMetrics } from './metrics.ts';

/** Why the operator is or is not ready; `reasons` names what it still waits for. */
export interface Readiness {
  ready: boolean;
  reasons: string[];
}

/** Options of a {@link HealthServer}. */
export interface HealthServerOptions {
  port: number;
  host?: string;
  readiness(): Readiness;
  metrics: OperatorMetrics;
  logger?: Logger;
}

/**
 * Serves `GET /healthz` (200 while the process runs), `GET /readyz` (200 only when `readiness()`
 * says so, else 503 with the reasons) and `GET /metrics` (Prometheus text); anything else gets
 * 404. Other endpoints get listeners of their own (`Manager.addListener`), so that what is
 * public never shares a port with the metrics.
 */
export class HealthServer implements Listener {
  readonly #options: HealthServerOptions;
  #server: Server | undefined;

  constructor(options: HealthServerOptions) {
    this.#options = options;
  }

  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(): Promise<number> {
    this.#server = createServer((request, response) => void this.#handle(request, response));
    return listenOn(this.#server, this.#options.port, this.#options.host);
  }

  /** Stops listening and closes idle and open connections; resolves when closed. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    await closeServer(server);
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://operator');
    const method = request.method ?? 'GET';
    try {
      if (method === 'GET' && url.pathname === '/healthz') return send(response, 200, 'ok\n');
      if (method === 'GET' && url.pathname === '/readyz') {
        const { ready, reasons } = this.#options.readiness();
        return send(response, ready ? 200 : 503, ready ? 'ok\n' : `not ready: ${reasons.join('; ')}\n`);
      }
      if (method === 'GET' && url.pathname === '/metrics') {
        const { registry } = this.#options.metrics;
        return send(response, 200, await registry.metrics(), registry.contentType);
      }
      return send(response, 404, `no route for ${method} ${url.pathname}\n`);
    } catch (error) {
      this.#options.logger?.error({ err: error, path: url.pathname }, 'HTTP handler failed');
      if (!response.headersSent) send(response, 500, 'internal error\n');
      else response.end();
    }
  }
}

function send(response: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  response.writeHead(status, { 'Content-Type': contentType });
  response.end(body);
}
