// API errors carry the HTTP code, the Kubernetes `reason` and per-field causes, so the HTTP layer
// can turn any failure into a `Status` object the real clients understand.
import type { ResourceType } from './types.ts';

/** One field-level cause of a failure, as `Status.details.causes` reports it. */
export interface StatusCause {
  field: string;
  message: string;
  reason?: string;
}

/** A failure the API server reports as a Kubernetes `Status` with `code` and `reason`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: number;
  readonly reason: string;
  readonly causes?: StatusCause[];
  /** The object the error is about, for `Status.details`. */
  readonly details?: { name?: string; group?: string; kind?: string };
  /** Seconds a client should wait before retrying (429 and some 500s). */
  readonly retryAfterSeconds?: number;

  constructor(
    code: number,
    reason: string,
    message: string,
    extra: { causes?: StatusCause[]; details?: { name?: string; group?: string; kind?: string }; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.code = code;
    this.reason = reason;
    if (extra.causes !== undefined) this.causes = extra.causes;
    if (extra.details !== undefined) this.details = extra.details;
    if (extra.retryAfterSeconds !== undefined) this.retryAfterSeconds = extra.retryAfterSeconds;
  }
}

/** `pods "x"` or `enclaves.sde.london "x"`, as the real server names an object in messages. */
function qualifiedName(rt: ResourceType, name: string): string {
  const res = rt.group === '' ? rt.resource : `${rt.resource}.${rt.group}`;
  return `${res} "${name}"`;
}

function details(rt: ResourceType, name: string): { name: string; group: string; kind: string } {
  return { name, group: rt.group, kind: rt.resource };
}

/** 404: the object does not exist. */
export function notFound(rt: ResourceType, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedName(rt, name)} not found`, { details: details(rt, name) });
}

/** 409: an object of that name already exists. */
export function alreadyExists(rt: ResourceType, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualifiedName(rt, name)} already exists`, { details: details(rt, name) });
}

/** 409: optimistic concurrency failed because the caller's resourceVersion is stale. */
export function staleConflict(rt: ResourceType, name: string): ApiError {
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedName(rt, name)}: the object has been modified; please apply your changes to the latest version and try again`,
    { details: details(rt, name) },
  );
}

/**
 * 422: the object failed validation; message and causes name each field like the real server,
 * whose message names a cause given twice once.
 */
export function invalid(rt: ResourceType, name: string, causes: StatusCause[]): ApiError {
  const kindGroup = rt.group === '' ? rt.kind : `${rt.kind}.${rt.group}`;
  const texts = [...new Set(causes.map((c) => (c.field === '' ? c.message : `${c.field}: ${c.message}`)))];
  const list = texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${kindGroup} "${name}" is invalid: ${list}`, {
    causes,
    details: { name, group: rt.group, kind: rt.kind },
  });
}

/** 403: admission or authorization refused the request. */
export function forbidden(rt: ResourceType, name: string, why: string): ApiError {
  const subject = name === '' ? rt.resource : qualifiedName(rt, name);
  return new ApiError(403, 'Forbidden', `${subject} is forbidden: ${why}`, { details: details(rt, name) });
}

/** 400: the request itself is malformed. */
export function badRequest(message: string, causes?: StatusCause[]): ApiError {
  return new ApiError(400, 'BadRequest', message, causes === undefined ? {} : { causes });
}

/** 410: the requested resourceVersion is older than the watch history keeps. */
export function gone(message = 'too old resource version'): ApiError {
  return new ApiError(410, 'Expired', message);
}

/** 405: the resource does not support the verb. */
export function methodNotAllowed(verb: string, rt: ResourceType): ApiError {
  return new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${verb} ${rt.resource})`);
}
