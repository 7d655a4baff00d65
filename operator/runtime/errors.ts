// Typed errors of the controller runtime. Names are stable: logs, metrics and tests match on them.
import { ApiException } from '@kubernetes/client-node';

/**
 * A reconcile failure that retrying cannot fix (an invalid spec, a forbidden request). The work
 * queue records it (log + `sde_reconcile_total{result="terminal"}`) and does not retry the key
 * until something enqueues it again.
 */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
  readonly reason: string;

  constructor(reason: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

/** Thrown into in-flight work when this replica stopped being the leader: its writes must stop. */
export class LeadershipLostError extends Error {
  override readonly name = 'LeadershipLostError';

  constructor(identity: string, detail: string) {
    super(`expected replica "${identity}" to hold the leader lease, but ${detail}`);
  }
}

/** A Kubernetes API request that came back with a non-2xx status. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  readonly statusCode: number;
  readonly reason: string | undefined;
  /** The server's `Retry-After`, in seconds, when it sent one (429, some 503s). */
  readonly retryAfterSeconds: number | undefined;

  constructor(statusCode: number, what: string, body: unknown, headers: Readonly<Record<string, string>> = {}) {
    const status = parseStatus(body);
    super(`expected ${what} to succeed, but the API server answered ${statusCode}${status.message ? `: ${status.message}` : ''}`);
    this.statusCode = statusCode;
    this.reason = status.reason;
    this.retryAfterSeconds = parseRetryAfter(headers['retry-after']);
  }
}

function parseRetryAfter(value: string | undefined): number | undefined {
  const seconds = Number(value);
  return value !== undefined && Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/** How long the server asked us to wait before retrying (`Retry-After`), in ms; undefined if it did not say. */
export function retryAfterMsOf(error: unknown): number | undefined {
  if (error instanceof KubeApiError) return error.retryAfterSeconds === undefined ? undefined : error.retryAfterSeconds * 1000;
  if (error instanceof ApiException) {
    const seconds = parseRetryAfter((error.headers as Record<string, string> | undefined)?.['retry-after']);
    return seconds === undefined ? undefined : seconds * 1000;
  }
  return undefined;
}

function parseStatus(body: unknown): { message?: string; reason?: string } {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return { message: body.slice(0, 200) };
    }
  }
  if (parsed !== null && typeof parsed === 'object') {
    const { message, reason } = parsed as { message?: unknown; reason?: unknown };
    return {
      ...(typeof message === 'string' ? { message } : {}),
      ...(typeof reason === 'string' ? { reason } : {}),
    };
  }
  return {};
}

/** The HTTP status of a failed API call, whichever client layer threw it; undefined for non-HTTP errors. */
export function statusCodeOf(error: unknown): number | undefined {
  if (error instanceof KubeApiError) return error.statusCode;
  if (error instanceof ApiException) return error.code;
  if (error !== null && typeof error === 'object') {
    const { statusCode, code } = error as { statusCode?: unknown; code?: unknown };
    if (typeof statusCode === 'number') return statusCode;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

/**
 * The answers that say the API server (or a proxy in front of it) is busy or briefly failing,
 * not that the request is wrong: 429, 500, 502, 503 and 504. The same request may succeed if
 * sent again; any other answer will not change by waiting.
 */
export const TRANSIENT_STATUS_CODES: readonly number[] = Object.freeze([429, 500, 502, 503, 504]);

/** True for one of the {@link TRANSIENT_STATUS_CODES}; false for any other code, or none. */
export function isTransientStatus(code: number | undefined): boolean {
  return code !== undefined && TRANSIENT_STATUS_CODES.includes(code);
}

/** True when the API server said the object does not exist (404). */
export function isNotFound(error: unknown): boolean {
  return statusCodeOf(error) === 404;
}

/** True when the API server rejected a write for a stale resourceVersion or an existing name (409). */
export function isConflict(error: unknown): boolean {
  return statusCodeOf(error) === 409;
}
