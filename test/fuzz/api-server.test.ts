// A sample of mutated specs sent to the local API server over HTTP with the operator running:
// each is refused with a 422 naming the field, or accepted and then reported by the operator as
// a condition naming the field; a refused Enclave leaves no namespace; nothing crashes.
import fc from 'fast-check';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCUMENT_SCHEMAS } from '../../api/problems.ts';
import { chaosSite } from '../../bench/lib/chaos.ts';
import { FLEET_SITE, fleetEnclave, isReady } from '../../bench/lib/fleet.ts';
import { createOperator } from '../../operator/operator.ts';
import { createLogger, KubeApiError } from '../../operator/runtime/index.ts';
import type { Manager } from '../../operator/runtime/index.ts';
import { exampleDoc, mutantArb, related } from './mutations.ts';
import type { Mutant } from './mutations.ts';

const ENCLAVES = 200;
const WORKSPACES = 100;
const SEED = Number(process.env.FUZZ_SEED ?? 20261127);
const HOME = 'sde-fuzz-home';

type Condition = { type: string; status: string; reason: string; message: string };
const conditions = (o: unknown): Condition[] => (o as { status?: { conditions?: Condition[] } } | undefined)?.status?.conditions ?? [];

interface Sent { name: string; namespace?: string; mutant: Mutant; zodOk: boolean; outcome: 'refused' | 'accepted' | 'other'; status?: number; message?: string }

describe(`${ENCLAVES} mutated Enclaves and ${WORKSPACES} mutated Workspaces over HTTP, operator running`, () => {
  let site: Awaited<ReturnType<typeof chaosSite>>;
  let operator: Manager;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown): void => void rejections.push(reason);
  let crashed: unknown;
  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    site = await chaosSite(4);
    operator = createOperator({ site: FLEET_SITE, kubeConfig: site.kubeConfig, port: false, logger: createLogger({ level: 'silent' }) });
    await operator.start();
    operator.done.catch((error: unknown) => (crashed = error));
    const home = { ...fleetEnclave(0), metadata: { name: 'fuzz-home' } };
    await site.user.apply(home, { fieldManager: 'fuzz', force: true });
    await site.observer.until(() => isReady(site.observer.cache('Enclave').get('fuzz-home')), 20_000);
  }, 30_000);
  afterAll(async () => {
    process.off('unhandledRejection', onRejection);
    await operator?.stop();
    await site?.observer.stop();
    await site?.cluster.stop();
  });

  async function send(object: KubernetesObject, mutant: Mutant, kind: string): Promise<Sent> {
    const name = object.metadata?.name ?? '';
    const zodOk = DOCUMENT_SCHEMAS[kind]!.safeParse(JSON.parse(JSON.stringify(object))).success;
    const sent: Sent = { name, ...(object.metadata?.namespace ? { namespace: object.metadata.namespace } : {}), mutant, zodOk, outcome: 'accepted' };
    try {
      const stored = await site.user.apply(JSON.parse(JSON.stringify(object)) as KubernetesObject, { fieldManager: 'fuzz', force: true });
      // The operator judges what the API server stored, which has lost any field the CRD does not declare.
      sent.zodOk = DOCUMENT_SCHEMAS[kind]!.safeParse(stored).success;
    } catch (error) {
      sent.outcome = error instanceof KubeApiError && error.statusCode === 422 ? 'refused' : 'other';
      sent.status = (error as KubeApiError).statusCode;
      sent.message = (error as Error).message;
    }
    return sent;
  }

  it('each is refused with a 422 naming the field, or reported by the operator in a condition naming the field; no partial enclave', async () => {
    const enclaves = fc.sample(mutantArb(exampleDoc('enclave-cardiac-mri.yaml')), { numRuns: ENCLAVES, seed: SEED });
    const workspaces = fc.sample(mutantArb(exampleDoc('workspace-rstudio.yaml')), { numRuns: WORKSPACES, seed: SEED + 1 });
    const sent: Sent[] = [];
    for (const [i, m] of enclaves.entries()) sent.push(await send({ ...(m.doc as KubernetesObject), metadata: { name: `fuzz-e-${i}` } }, m, 'Enclave'));
    for (const [i, m] of workspaces.entries()) sent.push(await send({ ...(m.doc as KubernetesObject), metadata: { name: `fuzz-w-${i}`, namespace: HOME } }, m, 'Workspace'));

    expect(sent.filter((s) => s.outcome === 'other').map((s) => `${s.mutant.path}: ${s.status} ${s.message?.slice(0, 200)}`)).toEqual([]);
    for (const s of sent.filter((x) => x.outcome === 'refused')) {
      // The API server names fields as spec.resources.cpu or spec.members[0].role.
      const named = [...(s.message ?? '').matchAll(/(spec(?:\.[\w-]+|\[\d+\])*)/g)].map((m) => m[1]!);
      expect(named.some((p) => related(p, s.mutant.path)), `422 for ${s.mutant.path} names it: ${s.message?.slice(0, 300)}`).toBe(true);
    }
    const invalidAccepted = sent.filter((s) => s.outcome === 'accepted' && !s.zodOk);
    const cacheOf = (s: Sent) => site.observer.cache(s.namespace ? 'Workspace' : 'Enclave');
    const reported = (s: Sent): boolean => conditions(cacheOf(s).get(s.name, s.namespace)).some((c) => c.type === 'SpecValid' && c.status === 'False');
    expect(await site.observer.until(() => invalidAccepted.every(reported), 30_000), `conditions on ${invalidAccepted.filter((s) => !reported(s)).map((s) => s.mutant.path).join(', ')}`).toBe(true);
    for (const s of invalidAccepted) {
      const c = conditions(cacheOf(s).get(s.name, s.namespace)).find((x) => x.type === 'SpecValid')!;
      expect(c.reason).toBe('InvalidSpec');
      const named = [...c.message.matchAll(/(spec(?:\.[\w-]+|\[\d+\])*)/g)].map((m) => m[1]!);
      expect(named.some((p) => related(p, s.mutant.path)), `condition for ${s.mutant.path} names it: ${c.message.slice(0, 300)}`).toBe(true);
    }
    // Every accepted enclave gets a verdict; one refused by schema or site rules has no namespace.
    // An enclave for another site is not this operator's to judge (it is ignored, and builds nothing).
    const acceptedEnclaves = sent.filter((s) => s.outcome === 'accepted' && !s.namespace && (s.mutant.doc.spec as { site?: unknown } | undefined)?.site === FLEET_SITE.site);
    const judged = (s: Sent): boolean => conditions(cacheOf(s).get(s.name)).some((c) => c.type === 'SpecValid');
    expect(await site.observer.until(() => acceptedEnclaves.every(judged), 30_000), `verdicts on ${acceptedEnclaves.filter((s) => !judged(s)).map((s) => `${s.name} ${s.mutant.mutation} ${s.mutant.path}`).join(', ')}`).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    const refusedBySite = acceptedEnclaves.filter((s) => s.zodOk && reported(s));
    for (const s of [...refusedBySite, ...sent.filter((x) => !x.namespace && (x.outcome !== 'accepted' || !x.zodOk))]) {
      expect(site.observer.cache('Namespace').get(`sde-${s.name}`), `no namespace for refused ${s.name} (${s.mutant.path})`).toBeUndefined();
    }
    const tally = { refused422: sent.filter((s) => s.outcome === 'refused').length, acceptedInvalid: invalidAccepted.length, acceptedValid: sent.filter((s) => s.outcome === 'accepted' && s.zodOk).length, refusedBySiteRules: refusedBySite.length };
    console.log(`fuzz over HTTP: ${JSON.stringify(tally)}`);
    expect(crashed).toBeUndefined();
    expect(rejections).toEqual([]);
    expect(operator.readiness().ready).toBe(true);
  }, 90_000);
});
