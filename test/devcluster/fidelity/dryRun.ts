// Asks an API server what it would store for each object of objects.yaml: a server-side apply
// with dryRun=All as the operator's field manager, in namespace sde-fidelity (created for real).
// Used on the devcluster by the fidelity test and on a real cluster by record.ts.
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

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

/**
 * One apply request with the object's JSON exactly as written. (client-node's
 * KubernetesObjectApi would send it through its typed models, which lose fields named after
 * reserved words, such as a LimitRange's `default` and a NetworkPolicy rule's `from`.)
 */
async function applyDryRun(kc: k8s.KubeConfig, obj: k8s.KubernetesObject): Promise<Record<string, unknown>> {
  const server = new URL(kc.getCurrentCluster()?.server ?? '');
  const [group, version] = (obj.apiVersion ?? '').includes('/') ? (obj.apiVersion ?? '').split('/') : ['', obj.apiVersion ?? ''];
  const kind = (obj.kind ?? '').toLowerCase();
  const resource = kind.endsWith('y') ? `${kind.slice(0, -1)}ies` : `${kind}s`;
  const namespace = obj.metadata?.namespace ? `/namespaces/${obj.metadata.namespace}` : '';
  const path = `${group ? `/apis/${group}` : '/api'}/${version}${namespace}/${resource}/${obj.metadata?.name ?? ''}?fieldManager=sde-operator&force=true&dryRun=All`;
  const options: https.RequestOptions = { method: 'PATCH', hostname: server.hostname, port: server.port, path, headers: { 'Content-Type': 'application/apply-patch+yaml', Accept: 'application/json' } };
  await kc.applyToHTTPSOptions(options);
  const body = JSON.stringify(obj);
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const request = (server.protocol === 'https:' ? https.request : http.request)(options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    request.on('error', reject);
    request.end(body);
  });
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
