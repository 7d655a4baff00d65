// The enclave's GPU quota, shared first come, first served among its workspaces and jobs, so
// a request over what is left becomes a clear QuotaExceeded condition instead of a silent Pending.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Refusal } from './spec-check.ts';

interface GpuConsumer {
  kind?: string;
  metadata?: { name?: string; creationTimestamp?: string | Date };
  spec?: { state?: string; resources?: { gpus?: number }; participant?: { resources?: { gpus?: number } } };
  status?: { phase?: string };
}

const FINISHED = new Set(['Succeeded', 'Failed']);

/** GPUs a workload asks for while it runs: none when stopped, or when a federated job has finished. */
function requested(o: GpuConsumer): number {
  if (o.spec?.state === 'Stopped' || (o.kind === 'FederatedJob' && FINISHED.has(o.status?.phase ?? ''))) return 0;
  return o.spec?.resources?.gpus ?? o.spec?.participant?.resources?.gpus ?? 0;
}

/** GPUs a workload holds: what it asks for, unless it was refused (phase Failed) and so runs nothing. */
function held(o: GpuConsumer): number {
  return o.status?.phase === 'Failed' ? 0 : requested(o);
}

function created(o: GpuConsumer): string {
  const t = o.metadata?.creationTimestamp;
  return t instanceof Date ? t.toISOString() : (t ?? '');
}

/**
 * GPUs of the enclave's quota held by consumers that came before `self` (earlier creation, then
 * name): stopped workspaces, refused workloads and finished jobs hold none. Deterministic, so two requests racing
 * for the last GPUs cannot both wait on each other.
 */
export function gpusHeldBefore(self: Readonly<KubernetesObject>, consumers: readonly Readonly<KubernetesObject>[]): number {
  const me = self as GpuConsumer;
  const before = (o: GpuConsumer): boolean => {
    const a = created(o);
    const b = created(me);
    return a < b || (a === b && (o.metadata?.name ?? '') < (me.metadata?.name ?? ''));
  };
  return consumers
    .map((o) => o as GpuConsumer)
    .filter((o) => !(o.metadata?.name === me.metadata?.name && (o as KubernetesObject).kind === (self as KubernetesObject).kind) && before(o))
    .reduce((sum, o) => sum + held(o), 0);
}

/**
 * QuotaExceeded when `gpus` (asked for at `field`) do not fit in what the enclave's quota of
 * `enclaveGpus` has left after the consumers that came before `self`; undefined when they fit.
 */
export function gpuQuotaRefusal(self: Readonly<KubernetesObject>, consumers: readonly Readonly<KubernetesObject>[], gpus: number, enclaveGpus: number, field: string): Refusal | undefined {
  // Its own phase does not count: a workload refused before is judged again, not taken as finished.
  if (gpus === 0 || requested(self as GpuConsumer) === 0) return undefined;
  const before = gpusHeldBefore(self, consumers);
  if (before + gpus <= enclaveGpus) return undefined;
  return {
    reason: 'QuotaExceeded',
    message: `${field}: asks for ${gpus} GPU(s) but the enclave's quota of ${enclaveGpus} has ${Math.max(0, enclaveGpus - before)} left (${before} held by earlier workspaces and jobs)`,
  };
}
