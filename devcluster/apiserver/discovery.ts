// Discovery documents kubectl and client libraries read: /version, /api, /apis and the resource
// lists of each group version, with verbs, short names, categories and subresources.
import { ALL_VERBS } from '../store/builtins.ts';
import type { ClusterStore } from '../store/cluster-store.ts';
import type { ResourceType } from '../store/types.ts';

/** The Kubernetes version the devcluster reports. */
export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-devcluster',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

const SUBRESOURCES: Record<string, { name: string; verbs: string[]; kind?: string; group?: string; version?: string }[]> = {
  '/pods': [
    { name: 'log', verbs: ['get'] },
    { name: 'exec', verbs: ['create', 'get'], kind: 'PodExecOptions' },
    { name: 'binding', verbs: ['create'], kind: 'Binding' },
    { name: 'eviction', verbs: ['create'], kind: 'Eviction', group: 'policy', version: 'v1' },
  ],
  'apps/deployments': [{ name: 'scale', verbs: ['get', 'patch', 'update'], kind: 'Scale', group: 'autoscaling', version: 'v1' }],
  'apps/statefulsets': [{ name: 'scale', verbs: ['get', 'patch', 'update'], kind: 'Scale', group: 'autoscaling', version: 'v1' }],
  'apps/replicasets': [{ name: 'scale', verbs: ['get', 'patch', 'update'], kind: 'Scale', group: 'autoscaling', version: 'v1' }],
  '/namespaces': [{ name: 'finalize', verbs: ['update'] }],
};

/** Versions a resource type is served at. */
export function servedVersions(rt: ResourceType): string[] {
  return rt.versions && rt.versions.length > 0 ? rt.versions : [rt.version];
}

/** Resource types served at one group version. */
function typesAt(store: ClusterStore, group: string, version: string): ResourceType[] {
  return store.resourceTypes().filter((rt) => rt.group === group && servedVersions(rt).includes(version));
}

/** `/api`: the core group's versions. */
export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

/** `/apis`: every named group with its versions and preferred version. */
export function apiGroupList(store: ClusterStore): Record<string, unknown> {
  const groups = new Map<string, { preferred: string; versions: Set<string> }>();
  for (const rt of store.resourceTypes()) {
    if (rt.group === '') continue;
    const g = groups.get(rt.group) ?? { preferred: rt.version, versions: new Set<string>() };
    for (const v of servedVersions(rt)) g.versions.add(v);
    groups.set(rt.group, g);
  }
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, g]) => ({
        name,
        versions: [g.preferred, ...[...g.versions].filter((v) => v !== g.preferred)].map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
        preferredVersion: { groupVersion: `${name}/${g.preferred}`, version: g.preferred },
      })),
  };
}

/** `/apis/<group>`: one group. */
export function apiGroup(store: ClusterStore, group: string): Record<string, unknown> | undefined {
  const list = apiGroupList(store).groups as { name: string }[];
  const g = list.find((x) => x.name === group);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...g } : undefined;
}

/** `/api/v1` or `/apis/<group>/<version>`: the resources served there. */
export function apiResourceList(store: ClusterStore, group: string, version: string): Record<string, unknown> | undefined {
  const types = typesAt(store, group, version);
  if (types.length === 0) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const rt of types.sort((a, b) => a.resource.localeCompare(b.resource))) {
    const r: Record<string, unknown> = {
      name: rt.resource,
      singularName: rt.singular ?? rt.kind.toLowerCase(),
      namespaced: rt.namespaced,
      kind: rt.kind,
      verbs: rt.verbs ?? ALL_VERBS,
    };
    if (rt.shortNames && rt.shortNames.length > 0) r.shortNames = rt.shortNames;
    if (rt.categories && rt.categories.length > 0) r.categories = rt.categories;
    resources.push(r);
    if (rt.statusSubresource) resources.push({ name: `${rt.resource}/status`, singularName: '', namespaced: rt.namespaced, kind: rt.kind, verbs: ['get', 'patch', 'update'] });
    for (const sub of SUBRESOURCES[`${rt.group}/${rt.resource}`] ?? []) {
      const s: Record<string, unknown> = { name: `${rt.resource}/${sub.name}`, singularName: '', namespaced: rt.namespaced, kind: sub.kind ?? rt.kind, verbs: sub.verbs };
      if (sub.group) s.group = sub.group;
      if (sub.version) s.version = sub.version;
      resources.push(s);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group === '' ? version : `${group}/${version}`, resources };
}
