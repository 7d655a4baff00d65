// Specs are validated again at reconcile entry: an invalid one becomes a condition whose message
// names the field, never a crash loop.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { z } from 'zod';
import { problemsFromIssues } from '../api/manifests.ts';
import type { Finding } from '../policy/index.ts';

/** Why a spec cannot be acted on: a CamelCase reason and a message naming the fields. */
export interface Refusal {
  reason: string;
  message: string;
}

/** A spec that passed its schema, or the refusal saying which fields did not. */
export type Checked<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

/**
 * Parses the cached object's apiVersion, kind, metadata and spec with `schema` (status is the
 * operator's own and is not judged). The cached object is frozen; zod returns a fresh copy.
 */
export function checkSpec<T>(schema: z.ZodType<T>, live: Readonly<KubernetesObject>): Checked<T> {
  const { apiVersion, kind, metadata, spec } = live as KubernetesObject & { spec?: unknown };
  const result = schema.safeParse({ apiVersion, kind, metadata, spec });
  if (result.success) return { ok: true, value: result.data };
  const fields = problemsFromIssues(result.error.issues, { source: '', index: 0 }).map((p) => `${p.path}: ${p.message}`);
  return { ok: false, refusal: { reason: 'InvalidSpec', message: fields.join('; ') } };
}

/** The refusal for broken site rules: the first finding's reason, every finding's field and message. */
export function refusalFromFindings(findings: readonly Finding[]): Refusal | undefined {
  const first = findings[0];
  if (first === undefined) return undefined;
  return { reason: first.reason, message: findings.map((f) => `${f.field}: ${f.message}`).join('; ') };
}
