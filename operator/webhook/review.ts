// The admission.k8s.io/v1 AdmissionReview the API server sends a webhook, and the answers.

/** Who made the request, as the API server authenticated them. */
export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
}

/** The request part of an AdmissionReview, as far as the webhooks read it. */
export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  namespace?: string;
  name?: string;
  userInfo: UserInfo;
  object?: Record<string, unknown> | null;
  oldObject?: Record<string, unknown> | null;
  dryRun?: boolean;
}

/** One JSON Patch operation of a mutating webhook's answer. */
export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

/** What a webhook decided: allowed (perhaps with a patch), or refused with a message naming the field. */
export type Decision = { allowed: true; patch?: PatchOperation[] } | { allowed: false; message: string };

/** Allowed as sent. */
export const ALLOW: Decision = { allowed: true };

/** Refused: the API server answers the user 403 with `message`. */
export function deny(message: string): Decision {
  return { allowed: false, message };
}

/** The AdmissionReview answering `request` with `decision` (a patch as base64 JSONPatch; a refusal as 403 Forbidden). */
export function reviewResponse(request: Pick<AdmissionRequest, 'uid'>, decision: Decision): Record<string, unknown> {
  const response: Record<string, unknown> = { uid: request.uid, allowed: decision.allowed };
  if (!decision.allowed) response.status = { code: 403, reason: 'Forbidden', message: decision.message };
  else if (decision.patch && decision.patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(decision.patch)).toString('base64');
  }
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

/** The JSON Pointer of an annotation key (`/` escaped as `~1`). */
export function annotationPath(key: string): string {
  return `/metadata/annotations/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

/**
 * The patch that makes annotation `key` of `object` hold exactly `value` (or be absent when
 * `value` is undefined), whatever the request put there; empty when it already does.
 */
export function setAnnotation(object: Record<string, unknown>, key: string, value: string | undefined): PatchOperation[] {
  const annotations = (object.metadata as { annotations?: Record<string, string> } | undefined)?.annotations;
  const current = annotations?.[key];
  if (current === value) return [];
  if (value === undefined) return [{ op: 'remove', path: annotationPath(key) }];
  if (annotations === undefined) return [{ op: 'add', path: '/metadata/annotations', value: { [key]: value } }];
  return [{ op: 'add', path: annotationPath(key), value }];
}
