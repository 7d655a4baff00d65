// Asks an API server which changes of updates.yaml it refuses: creates each subject's objects for
// real (server-side apply as sde-operator), waits for the phase the subject names, then sends
// every change as a dry run in each way a client can write it. Used on the devcluster by the
// update fidelity test and on a real cluster by record-updates.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { applyMergePatch } from '../../../devcluster/patch/merge-patch.ts';
import { objectPath, send } from './request.ts';

/** The namespace every namespaced object of updates.yaml lives in. */
export const UPDATES_NAMESPACE = 'sde-immutable';

/** How a change is written: PUT, the three patch types, server-side apply, and a merge patch of /status. */
export const UPDATE_VERBS = ['update', 'merge', 'json', 'strategic', 'apply', 'status'] as const;

/** One way of writing a change. */
export type UpdateVerb = (typeof UPDATE_VERBS)[number];

/** One document of updates.yaml. */
export interface UpdateSubject {
  subject: string;
  objects: k8s.KubernetesObject[];
  waitFor?: string;
  changes: Record<string, unknown>;
}

/** What the server answered to one change written one way, normalised by {@link normaliseStatus}. */
export interface UpdateAnswer {
  subject: string;
  change: string;
  verb: UpdateVerb;
  code: number;
  reason?: string;
  message?: string;
  causes?: { reason?: string; field?: string; message?: string }[];
}

type Obj = Record<string, unknown>;

const CLUSTER_SCOPED = new Set(['Namespace', 'PersistentVolume', 'ClusterRole', 'ClusterRoleBinding', 'RuntimeClass']);
// Kinds whose status is a subresource: a write there must leave the spec alone, never be refused for it.
const STATUS_SUBRESOURCE = new Set(['Namespace', 'PersistentVolume', 'PersistentVolumeClaim', 'Service', 'ResourceQuota', 'Deployment', 'StatefulSet', 'ReplicaSet', 'Job']);

/** The subjects of updates.yaml, in file order, with namespaced objects placed in {@link UPDATES_NAMESPACE}. */
export function updateSubjects(): UpdateSubject[] {
  const text = readFileSync(join(import.meta.dirname, 'updates.yaml'), 'utf8');
  const subjects = parseAllDocuments(text).map((d) => d.toJS() as UpdateSubject).filter((s) => s !== null);
  for (const s of subjects) {
    for (const obj of s.objects) if (!CLUSTER_SCOPED.has(obj.kind ?? '')) obj.metadata = { ...obj.metadata, namespace: UPDATES_NAMESPACE };
  }
  return subjects;
}

/** The verbs a subject's changes are sent with (the status subresource only where the kind has one). */
export function verbsFor(subject: UpdateSubject): UpdateVerb[] {
  const kind = subject.objects[subject.objects.length - 1]?.kind ?? '';
  return UPDATE_VERBS.filter((v) => v !== 'status' || STATUS_SUBRESOURCE.has(kind));
}

/**
 * Creates the namespace and every subject's objects, then sends each change each way; resolves
 * to the normalised answers in file order, or rejects when setting up a subject fails.
 */
export async function sendUpdates(kubeconfigPath: string): Promise<UpdateAnswer[]> {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  await kc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: UPDATES_NAMESPACE } } }).catch((err: unknown) => {
    if ((err as { code?: number }).code !== 409) throw err;
  });
  const subjects = updateSubjects();
  for (const s of subjects) for (const obj of s.objects) await createOnce(kc, obj);
  const answers: UpdateAnswer[] = [];
  for (const s of subjects) {
    const target = s.objects[s.objects.length - 1];
    if (target === undefined) throw new Error(`${s.subject}: no objects`);
    if (s.waitFor !== undefined) await waitFor(kc, target, s.waitFor);
    const uid = ((await live(kc, target)).metadata as { uid?: string } | undefined)?.uid ?? '';
    for (const [change, patch] of Object.entries(s.changes)) {
      for (const verb of verbsFor(s)) {
        const { status, text } = await sendChange(kc, target, patch, verb);
        answers.push({ subject: s.subject, change, verb, ...normaliseStatus(status, text, uid) });
      }
    }
  }
  return answers;
}

function pathOf(obj: k8s.KubernetesObject): string {
  return objectPath(obj.apiVersion ?? '', obj.kind ?? '', obj.metadata?.namespace, obj.metadata?.name ?? '');
}

/**
 * Creates `obj` by server-side apply unless it exists. (Applying again is not harmless: a forced
 * apply of a volume's claimRef without the uid the binder wrote takes the binding back, and the
 * claim is Lost for good.)
 */
async function createOnce(kc: k8s.KubeConfig, obj: k8s.KubernetesObject): Promise<void> {
  if ((await send(kc, 'GET', pathOf(obj))).status === 200) return;
  const { status, text } = await send(kc, 'PATCH', `${pathOf(obj)}?fieldManager=sde-operator&force=true`, JSON.stringify(obj), 'application/apply-patch+yaml');
  if (status >= 300) throw new Error(`${obj.kind ?? ''}/${obj.metadata?.name ?? ''}: ${status} ${text}`);
}

async function live(kc: k8s.KubeConfig, obj: k8s.KubernetesObject): Promise<Obj> {
  const { status, text } = await send(kc, 'GET', pathOf(obj));
  if (status !== 200) throw new Error(`${obj.kind ?? ''}/${obj.metadata?.name ?? ''}: ${status} ${text}`);
  return JSON.parse(text) as Obj;
}

/** Waits until `condition` holds of the object: `a.b=value` (that value) or `a.b` (any value). */
async function waitFor(kc: k8s.KubeConfig, obj: k8s.KubernetesObject, condition: string): Promise<void> {
  const [path = '', value] = condition.split('=');
  const deadline = Date.now() + 60_000;
  for (;;) {
    const found = path.split('.').reduce<unknown>((at, key) => (isObject(at) ? at[key] : undefined), await live(kc, obj));
    if (value === undefined ? found !== undefined : found === value) return;
    if (Date.now() > deadline) throw new Error(`${obj.kind ?? ''}/${obj.metadata?.name ?? ''}: ${condition} does not hold after 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The change written one way, as a dry run: the server validates it as it would the real write. */
async function sendChange(kc: k8s.KubeConfig, target: k8s.KubernetesObject, patch: unknown, verb: UpdateVerb): Promise<{ status: number; text: string }> {
  const path = pathOf(target);
  const query = '?fieldManager=sde-operator&dryRun=All';
  switch (verb) {
    case 'update':
      return send(kc, 'PUT', `${path}${query}`, JSON.stringify(applyMergePatch(await live(kc, target), patch)));
    case 'merge':
      return send(kc, 'PATCH', `${path}${query}`, JSON.stringify(patch), 'application/merge-patch+json');
    case 'json':
      return send(kc, 'PATCH', `${path}${query}`, JSON.stringify(jsonPatchOf(await live(kc, target), patch)), 'application/json-patch+json');
    case 'strategic':
      return send(kc, 'PATCH', `${path}${query}`, JSON.stringify(patch), 'application/strategic-merge-patch+json');
    case 'apply':
      return send(kc, 'PATCH', `${path}${query}&force=true`, JSON.stringify(applyMergePatch(target, patch)), 'application/apply-patch+yaml');
    case 'status':
      return send(kc, 'PATCH', `${path}/status${query}`, JSON.stringify(patch), 'application/merge-patch+json');
  }
}

/** The JSON Patch that makes the same change to `current` as the merge patch `patch`. */
function jsonPatchOf(current: unknown, patch: unknown, at = ''): { op: string; path: string; value?: unknown }[] {
  const ops: { op: string; path: string; value?: unknown }[] = [];
  const here = (current ?? {}) as Obj;
  for (const [key, value] of Object.entries(patch as Obj)) {
    const path = `${at}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    if (value === null) {
      if (key in here) ops.push({ op: 'remove', path });
    } else if (isObject(value) && isObject(here[key])) {
      ops.push(...jsonPatchOf(here[key], value, path));
    } else {
      ops.push({ op: 'add', path, value });
    }
  }
  return ops;
}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// Values kube-apiserver prints as Go dumps of its internal structs, with memory addresses (and
// a pod template's defaults in full): the devcluster names the type and abbreviates the body.
const GO_DUMPS = ['core.PodTemplateSpec{', 'core.VolumeNodeAffinity{'];

/**
 * The parts of an answer two servers give alike: the code, and for a refusal its reason, message
 * and causes, with the changed object's uid as `<uid>`, the Go dumps of GO_DUMPS abbreviated, and
 * go-cmp diffs (which go-cmp words differently from run to run on purpose) cut to their type.
 */
export function normaliseStatus(code: number, text: string, uid: string): Omit<UpdateAnswer, 'subject' | 'change' | 'verb'> {
  if (code < 300) return { code };
  const status = JSON.parse(uid === '' ? text : text.split(uid).join('<uid>')) as { reason?: string; message?: string; details?: { causes?: UpdateAnswer['causes'] } };
  const out: Omit<UpdateAnswer, 'subject' | 'change' | 'verb'> = { code };
  if (status.reason !== undefined) out.reason = status.reason;
  if (status.message !== undefined) out.message = normaliseMessage(status.message);
  if (status.details?.causes !== undefined) {
    out.causes = status.details.causes.map((c) => (c.message === undefined ? c : { ...c, message: normaliseMessage(c.message) }));
  }
  return out;
}

function normaliseMessage(message: string): string {
  let out = message.replace(/\n {2}(\w+\.\w+)\{\n[\s\S]*?\n {2}\}\n/g, '\n  $1{…}\n');
  for (const dump of GO_DUMPS) {
    for (let at = out.indexOf(dump); at >= 0; at = out.indexOf(dump, at + 1)) {
      const end = closingBrace(out, at + dump.length);
      out = `${out.slice(0, at + dump.length)}…${out.slice(end)}`;
    }
  }
  return out;
}

/** The index of the `}` closing the Go value whose body starts at `from` (braces in quoted strings skipped). */
function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (ch === '{') {
      depth++;
    } else if (ch === '}' && --depth === 0) {
      return i;
    }
  }
  return text.length;
}
