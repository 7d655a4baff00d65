// ResourceQuota: admission that refuses pods and PVCs that would exceed a namespace's quota
// (403 `exceeded quota`), and a controller that keeps every quota's `status.used` current.
import { BUILTINS } from '../store/builtins.ts';
import { forbidden } from '../store/errors.ts';
import { CONTROLLER_MANAGER } from '../store/field-managers.ts';
import { clone } from '../store/objects.ts';
import { jsonEqual } from '../../operator/runtime/json-equal.ts';
import type { ClusterStore, StorePlugin } from '../store/cluster-store.ts';
import type { KubeObject, ResourceType } from '../store/types.ts';
import { podContainers, podIsTerminal, podLimits, podRequests } from '../resources/pod-resources.ts';
import { formatMilli, parseMilli, quantityFormat } from '../resources/quantity.ts';

interface QuotaSpec {
  hard?: Record<string, string>;
}

const COUNTED_CORE: Record<string, ResourceType> = {
  pods: BUILTINS.pods,
  services: BUILTINS.services,
  configmaps: BUILTINS.configmaps,
  secrets: BUILTINS.secrets,
  persistentvolumeclaims: BUILTINS.persistentvolumeclaims,
  resourcequotas: BUILTINS.resourcequotas,
};

/** The resource type a `count/<resource>[.<group>]` or bare count key counts, if any. */
function countedType(store: ClusterStore, key: string): ResourceType | undefined {
  if (key in COUNTED_CORE) return COUNTED_CORE[key];
  if (!key.startsWith('count/')) return undefined;
  const rest = key.slice('count/'.length);
  const dot = rest.indexOf('.');
  return dot < 0 ? store.resourceType('', rest) : store.resourceType(rest.slice(dot + 1), rest.slice(0, dot));
}

const STANDARD_COMPUTE = new Set(['cpu', 'memory', 'ephemeral-storage']);

/**
 * The pod resource a quota key counts, as the real pod evaluator reads it: requests of any
 * resource (an extended one such as nvidia.com/gpu only this way), limits of CPU, memory and
 * ephemeral storage, and bare CPU, memory, ephemeral-storage and hugepages names as requests.
 * Other keys (`limits.nvidia.com/gpu`, a bare `nvidia.com/gpu`) count nothing and are not in `used`.
 */
function podResourceOf(key: string): { from: 'requests' | 'limits'; name: string } | undefined {
  if (key.startsWith('requests.') && key !== 'requests.storage') return { from: 'requests', name: key.slice('requests.'.length) };
  if (key.startsWith('limits.')) return STANDARD_COMPUTE.has(key.slice('limits.'.length)) ? { from: 'limits', name: key.slice('limits.'.length) } : undefined;
  return STANDARD_COMPUTE.has(key) || key.startsWith('hugepages-') ? { from: 'requests', name: key } : undefined;
}

/** Whether some evaluator counts this quota key (the real server reports only those in `used`). */
function isEvaluated(store: ClusterStore, key: string): boolean {
  return countedType(store, key) !== undefined || key === 'requests.storage' || podResourceOf(key) !== undefined;
}

/** What one object contributes to each quota key it touches, in milli-units. */
function usageOf(store: ClusterStore, rt: ResourceType, obj: KubeObject, keys: string[]): Map<string, number> {
  const out = new Map<string, number>();
  if (rt === BUILTINS.pods && podIsTerminal(obj)) return out;
  const requests = rt === BUILTINS.pods ? podRequests(obj.spec ?? {}) : new Map<string, number>();
  const limits = rt === BUILTINS.pods ? podLimits(obj.spec ?? {}) : new Map<string, number>();
  const storage = (obj.spec as { resources?: { requests?: { storage?: string } } } | undefined)?.resources?.requests?.storage;
  for (const key of keys) {
    const counted = countedType(store, key);
    if (counted !== undefined) {
      if (counted === rt) out.set(key, 1000);
      continue;
    }
    const resource = podResourceOf(key);
    if (rt === BUILTINS.pods && resource !== undefined) {
      out.set(key, (resource.from === 'limits' ? limits : requests).get(resource.name) ?? 0);
    } else if (rt === BUILTINS.persistentvolumeclaims && key === 'requests.storage' && storage !== undefined) {
      out.set(key, parseMilli(storage));
    }
  }
  return out;
}

function formatFor(hard: Record<string, string>, key: string, value: number): string {
  const h = hard[key];
  return formatMilli(value, h === undefined ? 'DecimalSI' : quantityFormat(h));
}

/** Current usage of one quota, computed from the namespace's objects. */
function computeQuotaUsed(store: ClusterStore, quota: KubeObject): Record<string, string> {
  const hard = (quota.spec as QuotaSpec | undefined)?.hard ?? {};
  const keys = Object.keys(hard).filter((k) => isEvaluated(store, k));
  const ns = quota.metadata.namespace ?? 'default';
  const sums = new Map<string, number>(keys.map((k) => [k, 0]));
  const types = new Set<ResourceType>([BUILTINS.pods, BUILTINS.persistentvolumeclaims]);
  for (const k of keys) {
    const t = countedType(store, k);
    if (t) types.add(t);
  }
  for (const rt of types) {
    for (const obj of store.scan(rt, { namespace: ns })) {
      for (const [k, v] of usageOf(store, rt, obj, keys)) sums.set(k, (sums.get(k) ?? 0) + v);
    }
  }
  return Object.fromEntries(keys.map((k) => [k, formatFor(hard, k, sums.get(k) ?? 0)]));
}

function missingCompute(obj: KubeObject, keys: string[]): string[] {
  const out: string[] = [];
  const { containers } = podContainers(obj);
  for (const key of keys.filter((k) => /^(requests|limits)\.(cpu|memory)$/.test(k) || k === 'cpu' || k === 'memory').sort()) {
    const [kind, res] = key.includes('.') ? (key.split('.') as ['requests' | 'limits', string]) : (['requests', key] as const);
    const lacking = containers.filter((c) => c.resources?.[kind]?.[res] === undefined).map((c) => c.name ?? '');
    if (lacking.length > 0) out.push(`${key} for: ${lacking.join(',')}`);
  }
  return out;
}

function admitAgainstQuotas(store: ClusterStore, rt: ResourceType, obj: KubeObject): void {
  const ns = obj.metadata.namespace ?? 'default';
  for (const quota of store.scan(BUILTINS.resourcequotas, { namespace: ns })) {
    const hard = (quota.spec as QuotaSpec | undefined)?.hard ?? {};
    const keys = Object.keys(hard);
    const requested = usageOf(store, rt, obj, keys);
    if (rt === BUILTINS.pods) {
      const missing = missingCompute(obj, keys);
      if (missing.length > 0) {
        throw forbidden(rt, obj.metadata.name, `failed quota: ${quota.metadata.name}: must specify ${missing.join('; ')}`);
      }
    }
    const relevant = [...requested.entries()].filter(([, v]) => v > 0);
    if (relevant.length === 0) continue;
    const used = computeQuotaUsed(store, quota);
    const exceeded = relevant
      .filter(([k, v]) => parseMilli(used[k] ?? '0') + v > parseMilli(hard[k] ?? '0'))
      .map(([k]) => k)
      .sort();
    if (exceeded.length === 0) continue;
    const fmt = (pick: (k: string) => string): string => exceeded.map((k) => `${k}=${pick(k)}`).join(',');
    throw forbidden(
      rt,
      obj.metadata.name,
      `exceeded quota: ${quota.metadata.name}, requested: ${fmt((k) => formatFor(hard, k, requested.get(k) ?? 0))}, used: ${fmt((k) => used[k] ?? '0')}, limited: ${fmt((k) => hard[k] ?? '0')}`,
    );
  }
}

function refreshQuotas(store: ClusterStore, ns: string): void {
  for (const quota of store.scan(BUILTINS.resourcequotas, { namespace: ns })) refreshQuota(store, quota);
}

function refreshQuota(store: ClusterStore, quota: KubeObject): void {
  const hard = (quota.spec as QuotaSpec | undefined)?.hard ?? {};
  const status = { hard: clone(hard), used: computeQuotaUsed(store, quota) };
  if (jsonEqual(quota.status, status) || quota.metadata.deletionTimestamp !== undefined) return;
  const next = clone(quota);
  next.status = status;
  store.update(BUILTINS.resourcequotas, next, { subresource: 'status', fieldManager: CONTROLLER_MANAGER });
}

/** Quota admission for every namespaced create, plus `status.used` upkeep, as a store plugin. */
export function resourceQuota(): StorePlugin {
  return {
    name: 'resource-quota',
    admit(obj, ctx) {
      if (ctx.operation !== 'CREATE' || !ctx.rt.namespaced) return;
      // A new quota starts with an empty status; the controller (afterCommit) fills it in.
      if (ctx.rt === BUILTINS.resourcequotas) {
        obj.status = {};
        return;
      }
      admitAgainstQuotas(ctx.store, ctx.rt, obj);
    },
    afterCommit(change, store) {
      const ns = change.object.metadata.namespace;
      if (ns === undefined || !change.rt.namespaced) return;
      if (change.rt === BUILTINS.resourcequotas) {
        if (change.type === 'DELETED') return;
        const current = store.peek(BUILTINS.resourcequotas, ns, change.object.metadata.name);
        if (current) refreshQuota(store, current);
        return;
      }
      const quotas = store.scan(BUILTINS.resourcequotas, { namespace: ns });
      if (quotas.length === 0) return;
      const relevant =
        change.rt === BUILTINS.pods ||
        change.rt === BUILTINS.persistentvolumeclaims ||
        quotas.some((q) => Object.keys((q.spec as QuotaSpec | undefined)?.hard ?? {}).some((k) => countedType(store, k) === change.rt));
      if (relevant) refreshQuotas(store, ns);
    },
  };
}
