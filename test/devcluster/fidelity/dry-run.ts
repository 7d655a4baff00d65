// Asks an API server what it would store for each object of objects.yaml: a server-side apply
// with dryRun=All as the operator's field manager, in namespace sde-fidelity (created for real).
// Used on the devcluster by the fidelity test and on a real cluster by record.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { objectPath, send } from './request.ts';

/** The namespace every namespaced object of objects.yaml lives in. */
export const FIDELITY_NAMESPACE = 'sde-fidelity';

/** One object as applied, and what the server answered (normalised by {@link normalise}). */
export interface Answer {
  kind: string;
  name: string;
  stored: Record<string, unknown>;
}

/** The objects of objects.yaml, in file order. */
export function fidelityObjects(): k8s.KubernetesObject[] {
  const text = readFileSync(join(import.meta.dirname, 'objects.yaml'), 'utf8');
  return parseAllDocuments(text).map((d) => d.toJS() as k8s.KubernetesObject).filter((o) => o !== null);
}

/**
 * Creates the namespace, then dry-run-applies every object with force as `sde-operator`;
 * resolves to the normalised answers in order, or rejects naming the object a server refused.
 */
export async function dryRunApply(kubeconfigPath: string): Promise<Answer[]> {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  await kc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: FIDELITY_NAMESPACE } } }).catch((err: unknown) => {
    if ((err as { code?: number }).code !== 409) throw err;
  });
  const answers: Answer[] = [];
  for (const obj of fidelityObjects()) {
    const stored = await applyDryRun(kc, obj);
    answers.push({ kind: obj.kind ?? '', name: obj.metadata?.name ?? '', stored: normalise(stored) });
  }
  return answers;
}

/** One apply request with the object's JSON exactly as written. */
async function applyDryRun(kc: k8s.KubeConfig, obj: k8s.KubernetesObject): Promise<Record<string, unknown>> {
  const path = `${objectPath(obj.apiVersion ?? '', obj.kind ?? '', obj.metadata?.namespace, obj.metadata?.name ?? '')}?fieldManager=sde-operator&force=true&dryRun=All`;
  const { status, text } = await send(kc, 'PATCH', path, JSON.stringify(obj), 'application/apply-patch+yaml');
  if (status >= 300) throw new Error(`${obj.kind ?? ''}/${obj.metadata?.name ?? ''}: ${status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/**
 * What any two servers answer differently for the same request, replaced or removed: uid (and
 * the labels a Job derives from it), timestamps, resourceVersion, allocated cluster IPs, and the
 * `creationTimestamp: null` that 1.23 prints inside templates (a Go zero time, not a value).
 */
export function normalise(obj: Record<string, unknown>): Record<string, unknown> {
  const meta = obj.metadata as Record<string, unknown>;
  const uid = meta.uid;
  for (const k of ['uid', 'creationTimestamp', 'resourceVersion', 'selfLink']) delete meta[k];
  for (const entry of (meta.managedFields ?? []) as Record<string, unknown>[]) delete entry.time;
  let text = JSON.stringify(obj);
  if (typeof uid === 'string') text = text.split(uid).join('<uid>');
  const out = JSON.parse(text) as Record<string, unknown>;
  const spec = out.spec as Record<string, unknown> | undefined;
  if (out.kind === 'Service' && spec !== undefined && spec.clusterIP !== 'None') {
    if (spec.clusterIP !== undefined) spec.clusterIP = '<allocated>';
    if (Array.isArray(spec.clusterIPs)) spec.clusterIPs = spec.clusterIPs.map(() => '<allocated>');
  }
  dropNullTimestamps(out);
  return out;
}

function dropNullTimestamps(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) dropNullTimestamps(item);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const o = value as Record<string, unknown>;
  if (o.creationTimestamp === null) delete o.creationTimestamp;
  for (const v of Object.values(o)) dropNullTimestamps(v);
}
