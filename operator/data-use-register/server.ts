// The register's own listener, the only one the site's public ingress reaches: it serves the
// register and nothing else of the operator (no metrics, no health, no API).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenOn } from '../runtime/index.ts';
import type { Listener, Logger } from '../runtime/index.ts';
import { registerCsv } from './csv.ts';
import { REGISTER_PAGE_CSP, registerHtml } from './html.ts';
import type { PublishedRegister } from './publish.ts';

/** The register's port unless told otherwise: next to the metrics port (8080). */
export const REGISTER_PORT = 8081;

/** Options of a {@link RegisterServer}. */
export interface RegisterServerOptions {
  port: number;
  host?: string;
  /** The register as published now, or undefined while the records are still loading. */
  register(): PublishedRegister | undefined;
  logger?: Logger;
}

type Page = { type: string; body(register: PublishedRegister): string; disposition?(register: PublishedRegister): string };

const PAGES: Readonly<Record<string, Page>> = {
  '/': { type: 'text/html; charset=utf-8', body: registerHtml },
  '/register.json': { type: 'application/json; charset=utf-8', body: (r) => `${JSON.stringify(r, null, 2)}\n` },
  '/register.csv': { type: 'text/csv; charset=utf-8', body: (r) => registerCsv(r.projects), disposition: (r) => `attachment; filename="data-use-register-${r.site}.csv"` },
};

/**
 * Serves `GET /` (the HTML page), `/register.json` and `/register.csv`, and HEAD of each; 404 for
 * any other path, 405 for any other method, 503 until the records have loaded (so a replica
 * never publishes a partial register). Responses carry a strict Content-Security-Policy and may
 * be cached for a minute.
 */
export class RegisterServer implements Listener {
  readonly #options: RegisterServerOptions;
  #server: Server | undefined;

  constructor(options: RegisterServerOptions) {
    this.#options = options;
  }

  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(): Promise<number> {
    this.#server = createServer((request, response) => this.#handle(request, response));
    return listenOn(this.#server, this.#options.port, this.#options.host);
  }

  /** Stops listening and closes open connections; resolves when closed. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    await closeServer(server);
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const path = new URL(request.url ?? '/', 'http://register').pathname;
    const page = PAGES[path];
    const head = request.method === 'HEAD';
    const send = (status: number, type: string, body: string, headers: Record<string, string> = {}): void => {
      response.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), 'x-content-type-options': 'nosniff', ...headers });
      response.end(head ? undefined : body);
    };
    try {
      if (request.method !== 'GET' && !head) return send(405, 'text/plain; charset=utf-8', 'only GET and HEAD\n', { allow: 'GET, HEAD' });
      if (!page) return send(404, 'text/plain; charset=utf-8', `no page at ${path}: the register is at /, /register.csv and /register.json\n`);
      const register = this.#options.register();
      if (!register) return send(503, 'text/plain; charset=utf-8', 'the register is loading; try again in a few seconds\n', { 'retry-after': '5' });
      send(200, page.type, page.body(register), {
        'cache-control': 'public, max-age=60',
        'content-security-policy': REGISTER_PAGE_CSP,
        ...(page.disposition ? { 'content-disposition': page.disposition(register) } : {}),
      });
    } catch (error) {
      this.#options.logger?.error({ err: error, path }, 'register page failed');
      if (!response.headersSent) send(500, 'text/plain; charset=utf-8', 'internal error\n');
      else response.end();
    }
  }
}
