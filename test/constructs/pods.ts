// Reading pod templates back out of rendered objects, for the checks every workload must pass.
import type { V1PodSpec, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { KubeObject } from '../../constructs/objects.ts';

/** Each workload (StatefulSet, Deployment, Job) with its pod template. */
export function podTemplates(objects: KubeObject[]): { owner: KubeObject; template: V1PodTemplateSpec; spec: V1PodSpec }[] {
  const out: { owner: KubeObject; template: V1PodTemplateSpec; spec: V1PodSpec }[] = [];
  for (const o of objects) {
    if (!['StatefulSet', 'Deployment', 'Job', 'DaemonSet', 'ReplicaSet'].includes(o.kind)) continue;
    const template = (o.spec as { template: V1PodTemplateSpec }).template;
    if (template.spec === undefined) throw new Error(`${o.kind} ${o.metadata.name} has no pod spec`);
    out.push({ owner: o, template, spec: template.spec });
  }
  return out;
}
