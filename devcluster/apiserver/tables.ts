// Server-side printing: `Table` responses (`Accept: ...;as=Table`) with the columns kubectl shows
// for each kind, CRD additionalPrinterColumns, and the wide-only columns at priority 1.
import type { KubeObject } from '../store/types.ts';

/** One column of a Table. */
export interface TableColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
}

type Cell = string | number | boolean | null;
type Obj = Record<string, unknown>;

/** A printer: the columns and a function from object to cells. */
export interface Printer {
  columns: TableColumn[];
  cells(obj: KubeObject, now: Date): Cell[];
}

/** Kubernetes' human-readable duration: 45s, 3m20s, 15m, 2h5m, 30h, 3d4h, 60d, 2y. */
function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

function age(obj: KubeObject, now: Date): string {
  const t = obj.metadata.creationTimestamp;
  return t === undefined ? '<unknown>' : humanDuration(now.getTime() - Date.parse(t));
}

function get(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Obj)[p];
  }
  return cur;
}

function str(v: unknown, fallback = '<none>'): string {
  if (v === undefined || v === null || v === '') return fallback;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

const NAME: TableColumn = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 };
const AGE: TableColumn = { name: 'Age', type: 'string', description: 'Time since the object was created.', priority: 0 };

function col(name: string, priority = 0, type = 'string'): TableColumn {
  return { name, type, priority, description: name };
}

interface ContainerStatus {
  ready?: boolean;
  restartCount?: number;
  started?: boolean;
  state?: { waiting?: { reason?: string }; running?: unknown; terminated?: { reason?: string; exitCode?: number; signal?: number } };
}
interface PodStatus { phase?: string; podIP?: string; reason?: string; conditions?: { type?: string; status?: string }[]; containerStatuses?: ContainerStatus[]; initContainerStatuses?: ContainerStatus[] }

function exitReason(terminated: { exitCode?: number; signal?: number }): string {
  return terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode ?? 0}`;
}

// The init container that holds the pod back, as kubectl shows it (`Init:1/2`, `Init:Error`...).
function initReason(pod: KubeObject, status: PodStatus): string | undefined {
  const inits = ((pod.spec ?? {}) as { initContainers?: { restartPolicy?: string }[] }).initContainers ?? [];
  const statuses = status.initContainerStatuses ?? [];
  for (const [i, c] of statuses.entries()) {
    const terminated = c.state?.terminated;
    if (terminated && (terminated.exitCode ?? 0) === 0) continue;
    if (inits[i]?.restartPolicy === 'Always' && c.started === true) continue;
    if (terminated) return `Init:${terminated.reason ?? exitReason(terminated)}`;
    const waiting = c.state?.waiting?.reason;
    if (waiting && waiting !== 'PodInitializing') return `Init:${waiting}`;
    return `Init:${i}/${inits.length}`;
  }
  return undefined;
}

/** The STATUS kubectl's pod printer shows: Completed, Error, CrashLoopBackOff, Init:0/1, Terminating, or the phase. */
function podStatusReason(pod: KubeObject): { reason: string; readyContainers: number; restarts: number } {
  const status = (pod.status ?? {}) as PodStatus;
  let reason = status.reason ?? status.phase ?? 'Unknown';
  const initializing = initReason(pod, status);
  const initialized = status.conditions?.some((c) => c.type === 'Initialized' && c.status === 'True') === true;
  let readyContainers = 0;
  let restarts = (status.initContainerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
  if (initializing !== undefined) reason = initializing;
  if (initializing === undefined || initialized) {
    restarts = 0;
    let hasRunning = false;
    for (const c of [...(status.containerStatuses ?? [])].reverse()) {
      restarts += c.restartCount ?? 0;
      const terminated = c.state?.terminated;
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (terminated) reason = terminated.reason ?? exitReason(terminated);
      else if (c.ready === true && c.state?.running !== undefined) {
        hasRunning = true;
        readyContainers += 1;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }
  const terminal = status.phase === 'Succeeded' || status.phase === 'Failed';
  if (pod.metadata.deletionTimestamp !== undefined && !terminal) reason = 'Terminating';
  return { reason, readyContainers, restarts };
}

function podRow(pod: KubeObject, now: Date): Cell[] {
  const spec = (pod.spec ?? {}) as { containers?: unknown[]; nodeName?: string };
  const { reason, readyContainers, restarts } = podStatusReason(pod);
  const podIP = (pod.status as PodStatus | undefined)?.podIP;
  return [pod.metadata.name, `${readyContainers}/${spec.containers?.length ?? 0}`, reason, restarts, age(pod, now), str(podIP), str(spec.nodeName), '<none>', '<none>'];
}

function containersOf(obj: KubeObject): { name?: string; image?: string }[] {
  return (get(obj, 'spec.template.spec.containers') as { name?: string; image?: string }[] | undefined) ?? [];
}

function selectorText(obj: KubeObject): string {
  const labels = get(obj, 'spec.selector.matchLabels') as Record<string, string> | undefined;
  return labels ? Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
}

function num(obj: KubeObject, path: string): number {
  const v = get(obj, path);
  return typeof v === 'number' ? v : 0;
}

function conditionStatus(obj: KubeObject, type: string): string | undefined {
  const conds = get(obj, 'status.conditions') as { type?: string; status?: string }[] | undefined;
  return conds?.find((c) => c.type === type)?.status;
}

const PRINTERS: Record<string, Printer> = {
  Pod: {
    columns: [NAME, col('Ready'), col('Status'), col('Restarts', 0, 'integer'), AGE, col('IP', 1), col('Node', 1), col('Nominated Node', 1), col('Readiness Gates', 1)],
    cells: podRow,
  },
  Namespace: { columns: [NAME, col('Status'), AGE], cells: (o, now) => [o.metadata.name, str(get(o, 'status.phase'), 'Active'), age(o, now)] },
  Node: {
    columns: [NAME, col('Status'), col('Roles'), AGE, col('Version'), col('Internal-IP', 1), col('External-IP', 1), col('OS-Image', 1), col('Kernel-Version', 1), col('Container-Runtime', 1)],
    cells: (o, now) => {
      const ready = conditionStatus(o, 'Ready') === 'True' ? 'Ready' : 'NotReady';
      const unsched = get(o, 'spec.unschedulable') === true ? ',SchedulingDisabled' : '';
      const roles = Object.keys(o.metadata.labels ?? {}).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.slice(24)).join(',') || '<none>';
      const addrs = (get(o, 'status.addresses') as { type?: string; address?: string }[] | undefined) ?? [];
      return [
        o.metadata.name, ready + unsched, roles, age(o, now), str(get(o, 'status.nodeInfo.kubeletVersion'), ''),
        str(addrs.find((a) => a.type === 'InternalIP')?.address), str(addrs.find((a) => a.type === 'ExternalIP')?.address),
        str(get(o, 'status.nodeInfo.osImage'), '<unknown>'), str(get(o, 'status.nodeInfo.kernelVersion'), '<unknown>'), str(get(o, 'status.nodeInfo.containerRuntimeVersion'), '<unknown>'),
      ];
    },
  },
  Deployment: {
    columns: [NAME, col('Ready'), col('Up-to-date', 0, 'integer'), col('Available', 0, 'integer'), AGE, col('Containers', 1), col('Images', 1), col('Selector', 1)],
    cells: (o, now) => [
      o.metadata.name, `${num(o, 'status.readyReplicas')}/${num(o, 'spec.replicas')}`, num(o, 'status.updatedReplicas'), num(o, 'status.availableReplicas'), age(o, now),
      containersOf(o).map((c) => c.name).join(','), containersOf(o).map((c) => c.image).join(','), selectorText(o),
    ],
  },
  StatefulSet: {
    columns: [NAME, col('Ready'), AGE, col('Containers', 1), col('Images', 1)],
    cells: (o, now) => [o.metadata.name, `${num(o, 'status.readyReplicas')}/${num(o, 'spec.replicas')}`, age(o, now), containersOf(o).map((c) => c.name).join(','), containersOf(o).map((c) => c.image).join(',')],
  },
  ReplicaSet: {
    columns: [NAME, col('Desired', 0, 'integer'), col('Current', 0, 'integer'), col('Ready', 0, 'integer'), AGE, col('Containers', 1), col('Images', 1), col('Selector', 1)],
    cells: (o, now) => [o.metadata.name, num(o, 'spec.replicas'), num(o, 'status.replicas'), num(o, 'status.readyReplicas'), age(o, now), containersOf(o).map((c) => c.name).join(','), containersOf(o).map((c) => c.image).join(','), selectorText(o)],
  },
  Job: {
    columns: [NAME, col('Status'), col('Completions'), col('Duration'), AGE, col('Containers', 1), col('Images', 1)],
    cells: (o, now) => {
      const status = conditionStatus(o, 'Complete') === 'True' ? 'Complete' : conditionStatus(o, 'Failed') === 'True' ? 'Failed' : get(o, 'spec.suspend') === true ? 'Suspended' : 'Running';
      const start = get(o, 'status.startTime') as string | undefined;
      const end = (get(o, 'status.completionTime') as string | undefined) ?? now.toISOString();
      return [o.metadata.name, status, `${num(o, 'status.succeeded')}/${num(o, 'spec.completions') || 1}`, start ? humanDuration(Date.parse(end) - Date.parse(start)) : '', age(o, now), containersOf(o).map((c) => c.name).join(','), containersOf(o).map((c) => c.image).join(',')];
    },
  },
  Service: {
    columns: [NAME, col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), AGE, col('Selector', 1)],
    cells: (o, now) => {
      const ports = (get(o, 'spec.ports') as { port?: number; protocol?: string }[] | undefined) ?? [];
      const sel = get(o, 'spec.selector') as Record<string, string> | undefined;
      return [o.metadata.name, str(get(o, 'spec.type'), 'ClusterIP'), str(get(o, 'spec.clusterIP')), '<none>', ports.map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',') || '<none>', age(o, now), sel ? Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',') : '<none>'];
    },
  },
  PersistentVolumeClaim: {
    columns: [NAME, col('Status'), col('Volume'), col('Capacity'), col('Access Modes'), col('StorageClass'), AGE],
    cells: (o, now) => [o.metadata.name, str(get(o, 'status.phase'), 'Pending'), str(get(o, 'spec.volumeName'), ''), str(get(o, 'status.capacity.storage'), ''), ((get(o, 'spec.accessModes') as string[] | undefined) ?? []).map((m) => m.replace('ReadWriteOnce', 'RWO').replace('ReadOnlyMany', 'ROX').replace('ReadWriteMany', 'RWX')).join(','), str(get(o, 'spec.storageClassName'), '<unset>'), age(o, now)],
  },
  PersistentVolume: {
    columns: [NAME, col('Capacity'), col('Access Modes'), col('Reclaim Policy'), col('Status'), col('Claim'), col('StorageClass'), AGE],
    cells: (o, now) => {
      const claim = get(o, 'spec.claimRef') as { namespace?: string; name?: string } | undefined;
      return [o.metadata.name, str(get(o, 'spec.capacity.storage'), ''), ((get(o, 'spec.accessModes') as string[] | undefined) ?? []).join(','), str(get(o, 'spec.persistentVolumeReclaimPolicy'), 'Retain'), str(get(o, 'status.phase'), 'Available'), claim ? `${claim.namespace}/${claim.name}` : '', str(get(o, 'spec.storageClassName'), ''), age(o, now)];
    },
  },
  ConfigMap: { columns: [NAME, col('Data', 0, 'integer'), AGE], cells: (o, now) => [o.metadata.name, Object.keys((o.data as Obj | undefined) ?? {}).length + Object.keys((o.binaryData as Obj | undefined) ?? {}).length, age(o, now)] },
  Secret: { columns: [NAME, col('Type'), col('Data', 0, 'integer'), AGE], cells: (o, now) => [o.metadata.name, str(o.type, 'Opaque'), Object.keys((o.data as Obj | undefined) ?? {}).length, age(o, now)] },
  Event: {
    columns: [col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Message'), { ...NAME, priority: 1 }],
    cells: (o, now) => {
      const last = (o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp) as string | undefined;
      const inv = (o.involvedObject ?? o.regarding ?? {}) as { kind?: string; name?: string };
      return [last ? humanDuration(now.getTime() - Date.parse(last)) : '<unknown>', str(o.type, ''), str(o.reason, ''), `${(inv.kind ?? '').toLowerCase()}/${inv.name ?? ''}`, str(o.message ?? o.note, ''), o.metadata.name];
    },
  },
  CustomResourceDefinition: { columns: [NAME, col('Created At')], cells: (o) => [o.metadata.name, o.metadata.creationTimestamp ?? ''] },
  ResourceQuota: {
    columns: [NAME, AGE, col('Request'), col('Limit')],
    cells: (o, now) => {
      const hard = (get(o, 'status.hard') as Record<string, string> | undefined) ?? {};
      const used = (get(o, 'status.used') as Record<string, string> | undefined) ?? {};
      const fmt = (limits: boolean): string => Object.keys(hard).filter((k) => k.startsWith('limits.') === limits).sort().map((k) => `${k}: ${used[k] ?? '0'}/${hard[k]}`).join(', ');
      return [o.metadata.name, age(o, now), fmt(false), fmt(true)];
    },
  },
};

/** Evaluates the simple JSONPath of printer columns: `.a.b`, `.a[0]`, `.a[?(@.type=="Ready")].status`. */
export function jsonPath(obj: unknown, path: string): unknown {
  const tokens = path.replace(/^\{|\}$/g, '').match(/\.[^.[]+|\[[^\]]*\]/g) ?? [];
  let cur: unknown = obj;
  for (const t of tokens) {
    if (cur === undefined || cur === null) return undefined;
    if (t.startsWith('.')) {
      cur = typeof cur === 'object' ? (cur as Obj)[t.slice(1)] : undefined;
      continue;
    }
    const inner = t.slice(1, -1);
    const filter = /^\?\(@\.([\w-]+)\s*==\s*["']([^"']*)["']\)$/.exec(inner);
    if (filter && Array.isArray(cur)) cur = cur.find((i) => typeof i === 'object' && i !== null && String((i as Obj)[filter[1] ?? '']) === filter[2]);
    else if (/^\d+$/.test(inner) && Array.isArray(cur)) cur = cur[Number(inner)];
    else if (inner === '*') continue;
    else return undefined;
  }
  return cur;
}

/** A printer for a custom resource from its CRD version's additionalPrinterColumns. */
export function crdPrinter(columns: { name: string; type: string; jsonPath: string; description?: string; priority?: number; format?: string }[] | undefined): Printer {
  if (!columns || columns.length === 0) return { columns: [NAME, AGE], cells: (o, now) => [o.metadata.name, age(o, now)] };
  return {
    columns: [NAME, ...columns.map((c) => ({ name: c.name, type: c.type === 'date' ? 'date' : c.type, priority: c.priority ?? 0, description: c.description ?? c.name, ...(c.format ? { format: c.format } : {}) }))],
    cells: (o, now) => [
      o.metadata.name,
      ...columns.map((c) => {
        const v = jsonPath(o, c.jsonPath);
        if (v === undefined || v === null) return null;
        if (c.type === 'date' && typeof v === 'string') return humanDuration(now.getTime() - Date.parse(v));
        if (typeof v === 'object') return JSON.stringify(v);
        return v as Cell;
      }),
    ],
  };
}

/** The printer of a built-in kind, or Name/Age for others. */
export function builtinPrinter(kind: string): Printer {
  return PRINTERS[kind] ?? { columns: [NAME, AGE], cells: (o, now) => [o.metadata.name, age(o, now)] };
}

/** The row object for `includeObject`: the metadata only (default), the whole object, or nothing. */
function rowObject(obj: KubeObject, include: string | null): Record<string, unknown> | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

/** A `meta.k8s.io/v1` Table of objects. */
export function toTable(printer: Printer, objects: KubeObject[], meta: Record<string, unknown>, include: string | null, withColumns = true): Record<string, unknown> {
  const now = new Date();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: meta,
    columnDefinitions: withColumns ? printer.columns : [],
    rows: objects.map((o) => {
      const row: Record<string, unknown> = { cells: printer.cells(o, now) };
      const ro = rowObject(o, include);
      if (ro) row.object = ro;
      return row;
    }),
  };
}
