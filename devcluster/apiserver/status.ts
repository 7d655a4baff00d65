// Kubernetes `Status` objects for failures, as clients expect them.
import { ApiError } from '../store/errors.ts';

/** A `Status` failure body for an error; unknown errors become 500 InternalError. */
export function statusOf(err: unknown): { code: number; body: Record<string, unknown>; retryAfter?: number } {
  const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', `Internal error occurred: ${(err as Error)?.message ?? String(err)}`);
  const details: Record<string, unknown> = { ...(e.details ?? {}) };
  if (e.causes && e.causes.length > 0) details.causes = e.causes;
  if (e.retryAfterSeconds !== undefined) details.retryAfterSeconds = e.retryAfterSeconds;
  const body: Record<string, unknown> = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: e.message,
    reason: e.reason,
    code: e.code,
  };
  if (Object.keys(details).length > 0) body.details = details;
  const out: { code: number; body: Record<string, unknown>; retryAfter?: number } = { code: e.code, body };
  if (e.retryAfterSeconds !== undefined) out.retryAfter = e.retryAfterSeconds;
  return out;
}
