// The enclave's GPU quota, shared first come, first served among its workspaces and jobs, so
// a request over what is left becomes a clear QuotaExceeded condition instead of a silent Pending.
import type { KubernetesObject } from '@kubernetes/client-node';

interface GpuConsumer {
  metadata?: { name?: string; creationTimestamp?: string | Date };
  spec?: { state?: string; resources?: { gpus?: number }; participant?: { resources?: { gpus?: number } } };
  status?: { phase?: string };
}

const FINISHED = new Set(['Succeeded', 'Failed']);

function gpusOf(o: GpuConsumer): number {
  if (o.spec?.state === 'Stopped' || FINISHED.has(o.status?.phase ?? '')) return 0;
  return o.spec?.resources?.gpus ?? o.spec?.participant?.resources?.gpus ?? 0;
}

function created(o: GpuConsumer): string {
  const t = o.metadata?.creationTimestamp;
  return t instanceof Date ? t.toISOString() : (t ?? '');
}

/**
 * GPUs of the enclave's quota held by consumers that came before `self` (earlier creation, then
 * name): stopped workspaces and finished jobs hold none. Deterministic, so two requests racing
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
    .reduce((sum, o) => sum + gpusOf(o), 0);
}
