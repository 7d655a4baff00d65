// The HTTPS listener the API server calls for admission: AdmissionReview in, decision out.
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { closeServer, listenOn } from '../runtime/index.ts';
import type { Listener, Logger } from '../runtime/index.ts';
import { reviewResponse } from './review.ts';
import type { AdmissionRequest, Decision } from './review.ts';

/** The port the webhook listens on unless told otherwise (the Service maps 443 to it). */
export const WEBHOOK_PORT = 9443;

// An AdmissionReview carries the object and its old version: at most 2 × 1.5 MB of etcd value.
const MAX_BODY_BYTES = 4 * 1024 * 1024;
// How often the certificate files are checked for a rotated pair.
const CERT_POLL_MS = 30_000;

/** Decides one admission request; a thrown error refuses it (the webhook fails closed). */
export type AdmissionHandler = (request: AdmissionRequest) => Decision;

/** Options of a {@link WebhookServer}. */
export interface WebhookServerOptions {
  port: number;
  host?: string;
  /** Folder holding `tls.crt` and `tls.key` (a kubernetes.io/tls Secret mounted whole); re-read when they change. */
  certDir: string;
  /** Handler per path, e.g. `/validate/workspaces`. */
  routes: Readonly<Record<string, AdmissionHandler>>;
  logger?: Logger;
}

/**
 * Serves admission webhooks over TLS: `POST <path>` with an admission.k8s.io/v1 AdmissionReview
 * answers with the handler's decision. A handler that throws, or a body that is not a review,
 * is refused with the reason rather than allowed. A certificate rotated in `certDir` is taken up
 * without a restart.
 */
export class WebhookServer implements Listener {
  readonly #options: WebhookServerOptions;
  #server: Server | undefined;
  #watched: string | undefined;

  constructor(options: WebhookServerOptions) {
    this.#options = options;
  }

  /** Starts listening; resolves with the bound port. */
  async listen(): Promise<number> {
    const { certDir } = this.#options;
    const server = createServer({ ...readPair(certDir), minVersion: 'TLSv1.2' }, (request, response) => void this.#handle(request, response));
    this.#server = server;
    const port = await listenOn(server, this.#options.port, this.#options.host);
    const certFile = join(certDir, 'tls.crt');
    this.#watched = certFile;
    watchFile(certFile, { interval: CERT_POLL_MS, persistent: false }, () => {
      try {
        server.setSecureContext(readPair(certDir));
        this.#options.logger?.info({ certDir }, 'webhook certificate reloaded');
      } catch (error) {
        this.#options.logger?.warn({ err: error, certDir }, 'webhook certificate could not be reloaded; serving the previous one');
      }
    });
    return port;
  }

  /** Stops listening and closes open connections. */
  async close(): Promise<void> {
    if (this.#watched) unwatchFile(this.#watched);
    const server = this.#server;
    this.#server = undefined;
    await closeServer(server);
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'https://webhook').pathname;
    const handler = this.#options.routes[path];
    if (request.method !== 'POST' || handler === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`no admission webhook at ${request.method} ${path}\n`);
      return;
    }
    let review: { request?: AdmissionRequest };
    try {
      review = JSON.parse(await readBody(request)) as { request?: AdmissionRequest };
    } catch (error) {
      response.writeHead(400, { 'content-type': 'text/plain' }).end(`expected an AdmissionReview as JSON: ${(error as Error).message}\n`);
      return;
    }
    const admission = review.request;
    if (admission?.uid === undefined) {
      response.writeHead(400, { 'content-type': 'text/plain' }).end('expected an AdmissionReview with a request and its uid\n');
      return;
    }
    let decision: Decision;
    try {
      decision = handler(admission);
    } catch (error) {
      this.#options.logger?.error({ err: error, path, uid: admission.uid }, 'admission handler failed; refusing the request');
      decision = { allowed: false, message: `the SDE operator could not decide this request: ${(error as Error).message}` };
    }
    if (!decision.allowed) this.#options.logger?.info({ path, user: admission.userInfo?.username, name: admission.name, namespace: admission.namespace, operation: admission.operation, message: decision.message }, 'admission refused');
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reviewResponse(admission, decision)));
  }
}

function readPair(certDir: string): { cert: Buffer; key: Buffer } {
  return { cert: readFileSync(join(certDir, 'tls.crt')), key: readFileSync(join(certDir, 'tls.key')) };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error(`body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
