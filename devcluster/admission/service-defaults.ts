// A Service as a real (1.23, single-stack IPv4) API server stores it: a cluster IP allocated on
// creation and kept across updates that leave it out, its IP family fields, session affinity,
// internal traffic policy, each port's protocol and target port, and an empty load-balancer status.
// Checked on a 1.23 server for ClusterIP, headless and ExternalName Services, and for updates
// that change the type or write one of clusterIP and clusterIPs.
import { ensureObject, objectsIn } from '../store/objects.ts';
import { jsonEqual } from '../../operator/runtime/json-equal.ts';
import type { KubeObject } from '../store/types.ts';

type Obj = Record<string, unknown>;

let serviceCounter = 10;

function nextClusterIP(): string {
  serviceCounter += 1;
  return `10.96.${Math.floor(serviceCounter / 250) % 250}.${(serviceCounter % 250) + 1}`;
}

// An update that writes only clusterIP (an older client's way) means clusterIPs too: they follow
// it, or go with it.
function followClusterIP(spec: Obj, before: Obj): void {
  if (spec.clusterIP === before.clusterIP || !jsonEqual(spec.clusterIPs, before.clusterIPs)) return;
  if (typeof spec.clusterIP === 'string' && spec.clusterIP !== '') spec.clusterIPs = [spec.clusterIP];
  else delete spec.clusterIPs;
}

// Becoming an ExternalName Service, it loses the cluster IP fields the server filled in, unless
// the update itself sets them (then validation refuses it).
function dropClusterFields(spec: Obj, before: Obj): void {
  if (spec.clusterIP === before.clusterIP && jsonEqual(spec.clusterIPs, before.clusterIPs)) {
    delete spec.clusterIP;
    delete spec.clusterIPs;
  }
  for (const field of ['ipFamilies', 'ipFamilyPolicy', 'internalTrafficPolicy']) if (jsonEqual(spec[field], before[field])) delete spec[field];
}

/** Defaults `service` in place; `old` is the stored Service on an update. */
export function defaultService(service: KubeObject, old: KubeObject | undefined): void {
  const spec = ensureObject(service, 'spec');
  const before = (old?.spec ?? {}) as Obj;
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  if (spec.type !== 'ExternalName') {
    spec.clusterIP ??= before.clusterIP ?? (Array.isArray(spec.clusterIPs) ? spec.clusterIPs[0] : undefined) ?? nextClusterIP();
    spec.clusterIPs ??= before.clusterIP === spec.clusterIP && before.clusterIPs !== undefined ? before.clusterIPs : [spec.clusterIP];
  }
  if (old !== undefined) followClusterIP(spec, before);
  if (old !== undefined && spec.type === 'ExternalName' && before.type !== 'ExternalName') dropClusterFields(spec, before);
  if (spec.type !== 'ExternalName') {
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
    spec.internalTrafficPolicy ??= 'Cluster';
  }
  for (const port of objectsIn(spec.ports)) {
    port.protocol ??= 'TCP';
    port.targetPort ??= port.port;
  }
  if (old === undefined) service.status = { loadBalancer: {} };
}
