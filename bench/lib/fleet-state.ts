// What a converged site should hold, and how the live site differs from it: the clean-run
// reference for chaos runs, computed from the custom resources as they stand.
import type { KubernetesObject } from '@kubernetes/client-node';
import { enclave as enclaveSchema } from '../../api/enclave.ts';
import { workspace as workspaceSchema } from '../../api/workspace.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';
import { ENCLAVE, MANAGED_BY, MANAGER } from '../../constructs/labels.ts';
import { renderEnclave, renderWorkspace } from '../../constructs/index.ts';
import { SdeKinds } from '../../operator/kinds.ts';
import { containsDesired, identityOf, Kinds } from '../../operator/runtime/index.ts';
import type { ResourceType , KubeClient } from '../../operator/runtime/index.ts';
import type { ClusterStore } from '../../devcluster/index.ts';

/** How the live site differs from the render of its custom resources. */
export interface FleetDiff {
  /** Rendered objects that do not exist. */
  missing: string[];
  /** Objects carrying the operator's label that no custom resource renders (orphans, duplicates). */
  extra: string[];
  /** Objects that exist but lack some rendered field. */
  mismatched: string[];
  /** How many rendered objects were compared. */
  compared: number;
}

const KIND_TYPES: Record<string, ResourceType> = Object.fromEntries(Object.values(Kinds).map((t) => [t.kind, t]));

async function listAll(client: KubeClient, type: ResourceType, labelSelector?: string): Promise<KubernetesObject[]> {
  const out: KubernetesObject[] = [];
  let continueToken: string | undefined;
  do {
    // From the watch cache, as the Reflector lists (a paged etcd list with a selector drops objects on kube-apiserver 1.23).
    const page = await client.list(type, { ...(labelSelector ? { labelSelector } : {}), limit: 500, ...(continueToken ? { continueToken } : { resourceVersion: '0' }) });
    out.push(...page.items);
    continueToken = page.continue;
  } while (continueToken);
  return out;
}

/**
 * Renders every Enclave and Workspace of `site` as it stands (access active) and compares with
 * what the API server holds: a converged operator leaves all three lists empty, whatever it went
 * through on the way (this is what a clean run produces, by the constructs' determinism).
 */
export async function diffFleet(client: KubeClient, site: SiteConfig, now = new Date()): Promise<FleetDiff> {
  const enclaves = (await listAll(client, SdeKinds.Enclave)).map((e) => enclaveSchema.parse(e)).filter((e) => e.spec.site === site.site);
  const byName = new Map(enclaves.map((e) => [e.metadata.name, e]));
  const desired: KubernetesObject[] = [];
  for (const e of enclaves) {
    const active = Date.parse(e.spec.access.expiresAt) > now.getTime();
    desired.push(...renderEnclave(e, site, { accessActive: active }));
  }
  for (const raw of await listAll(client, SdeKinds.Workspace)) {
    const w = workspaceSchema.parse(raw);
    const e = byName.get((w.metadata.namespace ?? '').replace(/^sde-/, ''));
    if (e) desired.push(...renderWorkspace(w, e, site, { accessActive: Date.parse(e.spec.access.expiresAt) > now.getTime() }));
  }
  const wanted = new Map(desired.map((o) => [identityOf(o), o]));
  const kinds = new Set(desired.map((o) => o.kind ?? ''));
  const live = new Map<string, KubernetesObject>();
  for (const kind of kinds) {
    const type = KIND_TYPES[kind] ?? (kind === 'Workspace' ? SdeKinds.Workspace : undefined);
    if (!type) continue;
    // Enclave children only: the data use register's ConfigMaps are the operator's too, but no render's.
    for (const o of await listAll(client, type, `${MANAGED_BY}=${MANAGER},${ENCLAVE}`)) live.set(identityOf(o), o);
  }
  const diff: FleetDiff = { missing: [], extra: [], mismatched: [], compared: wanted.size };
  for (const [id, o] of wanted) {
    const l = live.get(id);
    if (!l) diff.missing.push(id);
    else if (!containsDesired(l, stripForCompare(o))) diff.mismatched.push(id);
  }
  for (const id of live.keys()) if (!wanted.has(id)) diff.extra.push(id);
  return diff;
}

// The server fills and normalises some fields (apiVersion/kind casing is kept; status is the server's).
function stripForCompare(o: KubernetesObject): KubernetesObject {
  const copy = structuredClone(o) as KubernetesObject & { status?: unknown };
  delete copy.status;
  return copy;
}

/** Counts deletions in an in-process devcluster: operator-labelled objects and every PersistentVolume. */
export function watchDeletions(store: ClusterStore): { readonly labelled: string[]; readonly volumes: string[]; close(): void } {
  const labelled: string[] = [];
  const volumes: string[] = [];
  const close = store.subscribe(undefined, (event) => {
    if (event.type !== 'DELETED') return;
    const o = event.object;
    const id = `${event.resource.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (event.resource.kind === 'PersistentVolume') volumes.push(id);
    if (o.metadata.labels?.[MANAGED_BY] === MANAGER && event.resource.kind !== 'Pod' && event.resource.kind !== 'Event') labelled.push(id);
  });
  return { labelled, volumes, close };
}
