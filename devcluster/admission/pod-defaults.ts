// The defaults a real API server gives a pod spec, in a Pod and in every workload's template
// (SetDefaults_PodSpec and what it calls), and the ones only a Pod gets at creation (SetDefaults_Pod
// and the admission plugins ServiceAccount, Priority and DefaultTolerationSeconds). Each was read
// back from a 1.23 server; what it stores is what controllers and `kubectl get -o yaml` see.
import { parseMilli } from '../resources/quantity.ts';
import { isPlainObject, objectsIn } from '../store/objects.ts';

type Obj = Record<string, unknown>;

function child(obj: Obj, key: string): Obj | undefined {
  const value = obj[key];
  return isPlainObject(value) ? value : undefined;
}

/** `Always` for an image without a tag or tagged latest, else `IfNotPresent` (a digest pins it). */
function pullPolicyFor(image: unknown): string {
  if (typeof image !== 'string' || image.includes('@')) return 'IfNotPresent';
  const name = image.slice(image.lastIndexOf('/') + 1);
  const colon = name.lastIndexOf(':');
  return colon < 0 || name.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbe(probe: Obj | undefined): void {
  if (probe === undefined) return;
  probe.timeoutSeconds ??= 1;
  probe.periodSeconds ??= 10;
  probe.successThreshold ??= 1;
  probe.failureThreshold ??= 3;
  const httpGet = child(probe, 'httpGet');
  if (httpGet !== undefined) {
    httpGet.path ??= '/';
    httpGet.scheme ??= 'HTTP';
  }
}

function defaultContainer(container: Obj): void {
  container.terminationMessagePath ??= '/dev/termination-log';
  container.terminationMessagePolicy ??= 'File';
  container.imagePullPolicy ??= pullPolicyFor(container.image);
  container.resources ??= {};
  for (const port of objectsIn(container.ports)) port.protocol ??= 'TCP';
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) defaultProbe(child(container, probe));
}

function defaultVolume(volume: Obj): void {
  for (const source of ['secret', 'configMap', 'downwardAPI', 'projected']) {
    const at = child(volume, source);
    if (at !== undefined) at.defaultMode ??= 420;
  }
  for (const item of objectsIn(child(volume, 'downwardAPI')?.items)) {
    const fieldRef = child(item, 'fieldRef');
    if (fieldRef !== undefined) fieldRef.apiVersion ??= 'v1';
  }
  const hostPath = child(volume, 'hostPath');
  if (hostPath !== undefined) hostPath.type ??= '';
}

/** Defaults a pod spec wherever it appears; `serviceAccount` is kept as the deprecated copy of `serviceAccountName`. */
export function defaultPodSpec(spec: Obj): void {
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  if (spec.serviceAccountName === undefined && spec.serviceAccount !== undefined) spec.serviceAccountName = spec.serviceAccount;
  if (spec.serviceAccountName !== undefined) spec.serviceAccount = spec.serviceAccountName;
  for (const container of [...objectsIn(spec.containers), ...objectsIn(spec.initContainers)]) defaultContainer(container);
  for (const volume of objectsIn(spec.volumes)) defaultVolume(volume);
}

const NOT_READY_TOLERATIONS = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];

/** What only a Pod gets: requests from limits, service links, its service account, priority, the not-ready tolerations. */
export function defaultPodOnly(spec: Obj): void {
  for (const container of [...objectsIn(spec.containers), ...objectsIn(spec.initContainers)]) {
    const resources = child(container, 'resources');
    const limits = resources === undefined ? undefined : child(resources, 'limits');
    if (resources === undefined || limits === undefined) continue;
    const requests = child(resources, 'requests') ?? {};
    for (const [name, quantity] of Object.entries(limits)) requests[name] ??= quantity;
    resources.requests = requests;
  }
  spec.enableServiceLinks ??= true;
  spec.serviceAccountName ??= 'default';
  spec.serviceAccount = spec.serviceAccountName;
  if (spec.priorityClassName === undefined) spec.priority ??= 0;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  const tolerations = objectsIn(spec.tolerations);
  const tolerates = (t: Obj): boolean => tolerations.some((o) => (o.key === undefined || o.key === t.key) && (o.effect === undefined || o.effect === 'NoExecute'));
  const missing = NOT_READY_TOLERATIONS.filter((t) => !tolerates(t));
  if (missing.length > 0) spec.tolerations = [...tolerations, ...missing.map((t) => ({ ...t }))];
}

/** The pod's QoS class from its (defaulted) CPU and memory requests and limits. */
export function qosClass(spec: Obj): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  let any = false;
  let guaranteed = true;
  for (const container of [...objectsIn(spec.containers), ...objectsIn(spec.initContainers)]) {
    const resources = child(container, 'resources') ?? {};
    const requests = child(resources, 'requests') ?? {};
    const limits = child(resources, 'limits') ?? {};
    for (const name of ['cpu', 'memory']) {
      const request = quantity(requests[name]);
      const limit = quantity(limits[name]);
      if (request > 0 || limit > 0) any = true;
      if (limit === 0 || request !== limit) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function quantity(value: unknown): number {
  try {
    return value === undefined ? 0 : parseMilli(String(value));
  } catch {
    return 0;
  }
}
