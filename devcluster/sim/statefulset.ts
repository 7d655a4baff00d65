// The StatefulSet controller: pods `<set>-<ordinal>` with stable identity, their claims from
// volumeClaimTemplates (`<template>-<set>-<ordinal>`, kept on scale-down and delete unless the
// retention policy says Delete), OrderedReady or Parallel management, rolling updates by
// revision from the highest ordinal down, and the set's status.
import { BUILTINS } from '../store/builtins.ts';
import { CONTROLLER_MANAGER } from '../store/field-managers.ts';
import { ApiError } from '../store/errors.ts';
import type { KubeObject } from '../store/types.ts';
import { keyOf } from './informer.ts';
import { BY_CONTROLLER, type SimContext } from './context.ts';
import { adopt, ownerSyncQueue, writeStatus } from './owner-controller.ts';
import { controllerRef, templateHash } from './ownership.ts';
import { podFromTemplate, type PodTemplate } from './pod-control.ts';
import { isPodReady, isPodTerminal } from './pods.ts';
import type { SyncQueue } from './sync-queue.ts';
import { labelSelectorMatches, type LabelSelector } from '../../api/selectors.ts';

const COMPONENT = 'statefulset-controller';
const REVISION_LABEL = 'controller-revision-hash';
const RETRY_MS = 1_000;

interface ClaimTemplate { metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown> }
interface StatefulSetSpec {
  replicas?: number;
  serviceName?: string;
  selector?: LabelSelector;
  template?: PodTemplate;
  volumeClaimTemplates?: ClaimTemplate[];
  podManagementPolicy?: 'OrderedReady' | 'Parallel';
  updateStrategy?: { type?: 'RollingUpdate' | 'OnDelete'; rollingUpdate?: { partition?: number } };
  ordinals?: { start?: number };
  persistentVolumeClaimRetentionPolicy?: { whenDeleted?: 'Retain' | 'Delete'; whenScaled?: 'Retain' | 'Delete' };
}
interface StatefulSetStatus { currentRevision?: string; updateRevision?: string }

/** Keeps each StatefulSet's ordinal pods and their claims. */
export class StatefulSetController {
  readonly #ctx: SimContext;
  readonly #queue: SyncQueue;

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
    this.#queue = ownerSyncQueue(ctx, COMPONENT, ctx.informers.statefulsets, ctx.informers.pods, 'StatefulSet', (set, key) => this.#sync(set, key));
  }

  /** Stops the controller. */
  stop(): void {
    this.#queue.stop();
  }

  #sync(set: KubeObject, key: string): void {
    const spec = (set.spec ?? {}) as StatefulSetSpec;
    const name = set.metadata.name;
    const start = spec.ordinals?.start ?? 0;
    const replicas = spec.replicas ?? 1;
    const revision = `${name}-${templateHash(spec.template ?? {})}`;
    const ordered = spec.podManagementPolicy !== 'Parallel';
    const pods = new Map<number, KubeObject>();
    for (const pod of this.#ctx.informers.pods.indexed(BY_CONTROLLER, set.metadata.uid ?? '')) {
      const ordinal = ordinalOf(name, pod.metadata.name);
      if (ordinal !== undefined) pods.set(ordinal, pod);
    }
    const wanted = (ordinal: number) => ordinal >= start && ordinal < start + replicas;
    for (let ordinal = start; ordinal < start + replicas; ordinal += 1) {
      if (!pods.has(ordinal)) {
        const adopted = this.#adopt(set, spec, ordinal);
        if (adopted !== undefined) pods.set(ordinal, adopted);
      }
    }

    for (let ordinal = start; ordinal < start + replicas; ordinal += 1) {
      const pod = pods.get(ordinal);
      if (pod !== undefined && isPodTerminal(pod) && pod.metadata.deletionTimestamp === undefined) {
        this.#deletePod(set, pod);
        if (ordered) return this.#writeStatus(key, revision);
        continue;
      }
      if (pod === undefined) {
        if (!this.#tryCreatePod(set, spec, ordinal, revision)) return this.#writeStatus(key, revision);
        if (ordered) return this.#writeStatus(key, revision);
        continue;
      }
      if (ordered && !isPodReady(pod)) return this.#writeStatus(key, revision);
    }

    const surplus = [...pods.entries()].filter(([ordinal]) => !wanted(ordinal)).sort(([a], [b]) => b - a);
    for (const [ordinal, pod] of surplus) {
      if (pod.metadata.deletionTimestamp === undefined) this.#deletePod(set, pod);
      if (spec.persistentVolumeClaimRetentionPolicy?.whenScaled === 'Delete') this.#deleteClaims(set, spec, ordinal);
      if (ordered) return this.#writeStatus(key, revision);
    }

    if (spec.updateStrategy?.type !== 'OnDelete') this.#rollOne(set, spec, pods, revision, start, replicas);
    this.#writeStatus(key, revision);
  }

  /**
   * Takes over an orphaned pod of this ordinal whose labels the selector matches (left behind by
   * a `--cascade=orphan` delete), as the real controller adopts rather than recreates.
   */
  #adopt(set: KubeObject, spec: StatefulSetSpec, ordinal: number): KubeObject | undefined {
    const key = `${set.metadata.namespace ?? 'default'}/${set.metadata.name}-${ordinal}`;
    const orphan = this.#ctx.informers.pods.get(key);
    if (orphan === undefined || orphan.metadata.ownerReferences?.some((ref) => ref.controller === true)) return undefined;
    if (orphan.metadata.deletionTimestamp !== undefined || !labelSelectorMatches(spec.selector, orphan.metadata.labels)) return undefined;
    adopt(this.#ctx.store, BUILTINS.pods, orphan, set);
    return this.#ctx.informers.pods.get(key);
  }

  /** Replaces the highest-ordinal pod on an older revision, once every pod is ready. */
  #rollOne(set: KubeObject, spec: StatefulSetSpec, pods: Map<number, KubeObject>, revision: string, start: number, replicas: number): void {
    const partition = spec.updateStrategy?.rollingUpdate?.partition ?? 0;
    const inRange = [...pods.entries()].filter(([ordinal]) => ordinal >= start && ordinal < start + replicas);
    if (inRange.some(([, pod]) => !isPodReady(pod) || pod.metadata.deletionTimestamp !== undefined)) return;
    const outdated = inRange
      .filter(([ordinal, pod]) => ordinal >= partition && pod.metadata.labels?.[REVISION_LABEL] !== revision)
      .sort(([a], [b]) => b - a)[0];
    if (outdated !== undefined) this.#deletePod(set, outdated[1]);
  }

  /** Creates the pod (and its claims); false when admission refused it (quota), to retry later. */
  #tryCreatePod(set: KubeObject, spec: StatefulSetSpec, ordinal: number, revision: string): boolean {
    try {
      this.#createPod(set, spec, ordinal, revision);
      return true;
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 403) throw error;
      this.#ctx.events.record(COMPONENT, set, 'Warning', 'FailedCreate',
        `create Pod ${set.metadata.name}-${ordinal} in StatefulSet ${set.metadata.name} failed error: ${error.message}`);
      this.#queue.addAfter(keyOf(set), RETRY_MS);
      return false;
    }
  }

  #createPod(set: KubeObject, spec: StatefulSetSpec, ordinal: number, revision: string): void {
    const podName = `${set.metadata.name}-${ordinal}`;
    const volumes = ((structuredClone(spec.template?.spec?.volumes) ?? []) as { name: string }[]);
    for (const template of spec.volumeClaimTemplates ?? []) {
      const claimName = this.#ensureClaim(set, spec, template, ordinal);
      const volume = { name: template.metadata?.name ?? 'data', persistentVolumeClaim: { claimName } };
      const at = volumes.findIndex((v) => v.name === volume.name);
      if (at >= 0) volumes[at] = volume;
      else volumes.push(volume);
    }
    const pod = podFromTemplate(set, spec.template, podName);
    pod.metadata.labels = {
      ...pod.metadata.labels,
      [REVISION_LABEL]: revision,
      'statefulset.kubernetes.io/pod-name': podName,
      'apps.kubernetes.io/pod-index': String(ordinal),
    };
    const podSpec = pod.spec as Record<string, unknown>;
    podSpec.hostname = podName;
    if (spec.serviceName) podSpec.subdomain = spec.serviceName;
    if (volumes.length > 0) podSpec.volumes = volumes;
    this.#ctx.store.create(BUILTINS.pods, pod, { fieldManager: CONTROLLER_MANAGER });
    this.#ctx.events.record(COMPONENT, set, 'Normal', 'SuccessfulCreate', `create Pod ${podName} in StatefulSet ${set.metadata.name} successful`);
  }

  /** Creates the ordinal's claim unless it exists; returns its name. */
  #ensureClaim(set: KubeObject, spec: StatefulSetSpec, template: ClaimTemplate, ordinal: number): string {
    const claimName = `${template.metadata?.name ?? 'data'}-${set.metadata.name}-${ordinal}`;
    const namespace = set.metadata.namespace ?? 'default';
    if (this.#ctx.informers.persistentvolumeclaims.get(`${namespace}/${claimName}`) !== undefined) return claimName;
    const metadata: KubeObject['metadata'] = {
      name: claimName,
      namespace,
      labels: { ...(template.metadata?.labels ?? {}), ...(spec.selector?.matchLabels ?? {}) },
    };
    if (template.metadata?.annotations) metadata.annotations = { ...template.metadata.annotations };
    if (spec.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete') metadata.ownerReferences = [controllerRef(set)];
    this.#ctx.store.create(BUILTINS.persistentvolumeclaims, {
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata, spec: structuredClone(template.spec ?? {}),
    }, { fieldManager: CONTROLLER_MANAGER });
    this.#ctx.events.record(COMPONENT, set, 'Normal', 'SuccessfulCreate', `create Claim ${claimName} Pod ${set.metadata.name}-${ordinal} in StatefulSet ${set.metadata.name} success`);
    return claimName;
  }

  #deleteClaims(set: KubeObject, spec: StatefulSetSpec, ordinal: number): void {
    for (const template of spec.volumeClaimTemplates ?? []) {
      this.#ctx.store.delete(BUILTINS.persistentvolumeclaims, set.metadata.namespace, `${template.metadata?.name ?? 'data'}-${set.metadata.name}-${ordinal}`);
    }
  }

  #deletePod(set: KubeObject, pod: KubeObject): void {
    this.#ctx.store.delete(BUILTINS.pods, pod.metadata.namespace, pod.metadata.name);
    this.#ctx.events.record(COMPONENT, set, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
  }

  #writeStatus(key: string, revision: string): void {
    const set = this.#ctx.informers.statefulsets.get(key);
    if (set === undefined) return;
    const old = (set.status ?? {}) as Record<string, unknown> & StatefulSetStatus;
    const pods = this.#ctx.informers.pods.indexed(BY_CONTROLLER, set.metadata.uid ?? '')
      .filter((pod) => ordinalOf(set.metadata.name, pod.metadata.name) !== undefined && pod.metadata.deletionTimestamp === undefined);
    const ready = pods.filter(isPodReady).length;
    const updated = pods.filter((pod) => pod.metadata.labels?.[REVISION_LABEL] === revision).length;
    const wanted = ((set.spec ?? {}) as StatefulSetSpec).replicas ?? 1;
    const rolledOut = updated === wanted && pods.length === wanted;
    const currentRevision = rolledOut || old.currentRevision === undefined ? revision : old.currentRevision;
    const current = pods.filter((pod) => pod.metadata.labels?.[REVISION_LABEL] === currentRevision).length;
    const status: Record<string, unknown> = {
      observedGeneration: set.metadata.generation ?? 1,
      replicas: pods.length,
      readyReplicas: ready,
      currentReplicas: current,
      updatedReplicas: updated,
      availableReplicas: ready,
      currentRevision,
      updateRevision: revision,
      collisionCount: 0,
    };
    writeStatus(this.#ctx.store, BUILTINS.statefulsets, set, status);
  }
}

function ordinalOf(setName: string, podName: string): number | undefined {
  if (!podName.startsWith(`${setName}-`)) return undefined;
  const rest = podName.slice(setName.length + 1);
  return /^\d+$/.test(rest) ? Number(rest) : undefined;
}
