// Is a spec one the operator can act on? Specs are validated again at reconcile entry (the CRD may
// be older, or CEL off): an invalid one becomes a refusal whose message names the field, never a
// crash loop. Reporting a refusal is report.ts's.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { z } from 'zod';
import { problemsFromIssues } from '../api/problems.ts';
import type { Finding } from '../policy/index.ts';
import { shareObject } from './runtime/index.ts';

/** Why a spec cannot be acted on: a CamelCase reason and a message naming the fields. */
export interface Refusal {
  reason: string;
  message: string;
}

/** A spec that passed its schema, or the refusal saying which fields did not. */
export type Checked<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

/**
 * Parses the cached object's apiVersion, kind, metadata and spec with `schema` (status is the
 * operator's own and is not judged). The parsed value is deeply frozen and, for a frozen (cached)
 * object, computed once: callers copy before changing it.
 */
export function checkSpec<T>(schema: z.ZodType<T>, live: Readonly<KubernetesObject>): Checked<T> {
  // A cached object is frozen and replaced, never changed: its verdict can be kept with it.
  let verdicts = checkedByObject.get(schema);
  const known = verdicts?.get(live);
  if (known !== undefined) return known as Checked<T>;
  const { apiVersion, kind, metadata, spec } = live as KubernetesObject & { spec?: unknown };
  const result = schema.safeParse({ apiVersion, kind, metadata, spec });
  let checked: Checked<T>;
  // Frozen, its parts shared with equal ones in the cache: the parsed spec repeats the cached one.
  if (result.success) checked = { ok: true, value: shareObject(result.data as KubernetesObject) as T };
  else {
    const fields = problemsFromIssues(result.error.issues, { source: '', index: 0 }).map((p) => `${p.path}: ${p.message}`);
    checked = { ok: false, refusal: { reason: 'InvalidSpec', message: fields.join('; ') } };
  }
  if (Object.isFrozen(live)) {
    if (verdicts === undefined) checkedByObject.set(schema, (verdicts = new WeakMap()));
    verdicts.set(live, checked);
  }
  return checked;
}

// Verdicts by schema and frozen cached object; entries go when the cache drops the object.
const checkedByObject = new WeakMap<object, WeakMap<object, Checked<unknown>>>();

/** The refusal for broken site rules: the first finding's reason, every finding's field and message. */
export function refusalFromFindings(findings: readonly Finding[]): Refusal | undefined {
  const first = findings[0];
  if (first === undefined) return undefined;
  return { reason: first.reason, message: findings.map((f) => `${f.field}: ${f.message}`).join('; ') };
}
