// Pods from a controller's template, and kube-controller-manager's PodControl, through which the
// ReplicaSet and Job controllers create and delete their pods and record SuccessfulCreate,
// FailedCreate and SuccessfulDelete about the owner. (The StatefulSet controller has a pod
// control of its own, with other messages, in statefulset.ts.)
import { BUILTINS } from '../store/builtins.ts';
import { ApiError } from '../store/errors.ts';
import { CONTROLLER_MANAGER } from '../store/field-managers.ts';
import type { KubeObject } from '../store/types.ts';
import type { SimContext } from './context.ts';
import { controllerRef } from './ownership.ts';

/** A pod template: metadata (labels, annotations) and a pod spec. */
export interface PodTemplate { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown> }

/** A new pod from a controller's template, owned by the controller. */
export function podFromTemplate(owner: KubeObject, template: PodTemplate | undefined, name: string): KubeObject {
  const metadata: KubeObject['metadata'] = {
    name,
    namespace: owner.metadata.namespace ?? 'default',
    labels: { ...(template?.metadata?.labels ?? {}) },
    ownerReferences: [controllerRef(owner)],
  };
  if (template?.metadata?.annotations) metadata.annotations = { ...template.metadata.annotations };
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: structuredClone(template?.spec ?? {}) };
}

/** Creates and deletes one controller's pods, with the Events the real PodControl records. */
export class PodControl {
  readonly #ctx: SimContext;
  readonly #component: string;

  constructor(ctx: SimContext, component: string) {
    this.#ctx = ctx;
    this.#component = component;
  }

  /**
   * Creates `pod` for `owner`. Returns undefined, or the message of an admission refusal (quota)
   * after recording it as FailedCreate, for the caller to retry; a conflict or any other error is thrown.
   */
  create(owner: KubeObject, pod: KubeObject): string | undefined {
    try {
      this.#ctx.store.create(BUILTINS.pods, pod, { fieldManager: CONTROLLER_MANAGER });
    } catch (error) {
      if (!(error instanceof ApiError) || error.code === 409) throw error;
      this.#ctx.events.record(this.#component, owner, 'Warning', 'FailedCreate', `Error creating: ${error.message}`);
      return error.message;
    }
    this.#ctx.events.record(this.#component, owner, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
    return undefined;
  }

  /** Deletes `owner`'s pod and records SuccessfulDelete. */
  delete(owner: KubeObject, pod: KubeObject): void {
    this.#ctx.store.delete(BUILTINS.pods, pod.metadata.namespace, pod.metadata.name);
    this.#ctx.events.record(this.#component, owner, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
  }
}
