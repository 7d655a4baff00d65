// The audit log kube-apiserver writes with --audit-log-path at level Metadata, in its JSON shape
// (one line per request when its response completes), so a client's requests are counted the same
// way on the devcluster as on a real control plane.
import { createWriteStream, type WriteStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestInfo } from './request-info.ts';
import type { UserInfo } from '../auth/identity.ts';

/** Appends one audit.k8s.io/v1 Event per completed request to a file. */
export class AuditLog {
  readonly #stream: WriteStream;

  constructor(path: string) {
    this.#stream = createWriteStream(path, { flags: 'a' });
  }

  /**
   * Logs `req` once its response has finished (a watch when it ends), as kube-apiserver's
   * ResponseComplete stage: verb, user (as authenticated by then: `userOf`), user agent, object
   * reference and response code.
   */
  record(req: IncomingMessage, res: ServerResponse, info: RequestInfo, userOf: () => UserInfo | undefined): void {
    const received = new Date().toISOString();
    res.once('finish', () => {
      const user = userOf();
      const objectRef = info.isResource
        ? {
            resource: info.resource,
            ...(info.namespace !== undefined ? { namespace: info.namespace } : {}),
            ...(info.name !== undefined ? { name: info.name } : {}),
            ...(info.group ? { apiGroup: info.group } : {}),
            apiVersion: info.version,
            ...(info.subresource ? { subresource: info.subresource } : {}),
          }
        : undefined;
      const event = {
        kind: 'Event',
        apiVersion: 'audit.k8s.io/v1',
        level: 'Metadata',
        stage: 'ResponseComplete',
        requestURI: req.url ?? '/',
        verb: info.isResource ? info.verb : (req.method ?? 'GET').toLowerCase(),
        user: user ? { username: user.username, groups: user.groups } : {},
        userAgent: req.headers['user-agent'] ?? '',
        ...(objectRef ? { objectRef } : {}),
        responseStatus: { code: res.statusCode },
        requestReceivedTimestamp: received,
        stageTimestamp: new Date().toISOString(),
      };
      this.#stream.write(`${JSON.stringify(event)}\n`);
    });
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#stream.end(() => resolve()));
  }
}
