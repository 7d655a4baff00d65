// The access record holds even where admission did not (a spec written under an older CRD, or
// while the webhook was not installed): status.accessHistory only grows, and access never runs
// past the latest end it holds. Hostile cases of issue 17, over HTTP against the devcluster
// (which enforces no admission webhook) with the real operator.
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { allCustomResourceDefinitions } from '../../api/crd.ts';
import { statusCodeOf } from '../../operator/runtime/index.ts';
import { conditionOf, example, startTestSite } from './harness.ts';
import type { TestSite } from './harness.ts';

const SDE = 'sde.london/v1alpha1';
type Obj = KubernetesObject & { spec: { access: Record<string, unknown> }; status?: { accessHistory?: Array<Record<string, string>>; effectiveExpiresAt?: string; phase?: string } };
const extension = { until: '2028-06-30T00:00:00Z', justification: 'Reviewer revisions', approvedBy: 'UCLH DAC' };

describe('the access record', () => {
  let site: TestSite | undefined;
  afterEach(async () => {
    await site?.close();
    site = undefined;
  });

  const enclave = (access: Record<string, unknown> = {}): Obj => {
    const e = structuredClone(example('enclave-cardiac-mri.yaml')[0]) as Obj;
    Object.assign(e.spec.access, access);
    return e;
  };
  const live = async (): Promise<Obj | undefined> => site!.get<Obj>(SDE, 'Enclave', 'cardiac-mri');
  // As stored under an older CRD, or a release without CEL (before 1.25): no transition rules.
  const withoutTransitionRules = async (): Promise<void> => {
    for (const { crd } of allCustomResourceDefinitions({ kubernetesVersion: { major: 1, minor: 23 } })) await site!.client.apply(crd as KubernetesObject, { fieldManager: 'test-installer', force: true });
  };

  it('keeps an extension the spec drops, and the end it granted stays the end in force only while the spec still grants it', async () => {
    site = await startTestSite();
    await withoutTransitionRules();
    await site.startOperator();
    await site.apply([enclave({ extensions: [extension] })]);
    const recorded = await site.waitFor('the extension recorded', async () => {
      const e = await live();
      return e?.status?.accessHistory?.length === 2 && e;
    });
    expect(recorded.status?.accessHistory?.map((entry) => entry.until)).toEqual(['2027-12-31T23:59:59Z', '2028-06-30T00:00:00Z']);
    expect(recorded.status?.accessHistory?.[1]).toMatchObject(extension);

    // Written around admission: the extension removed from the spec.
    await site.apply([enclave()]);
    const after = await site.waitFor('the shorter end in force', async () => {
      const e = await live();
      return e?.status?.effectiveExpiresAt === '2027-12-31T23:59:59Z' && e;
    });
    expect(after.status?.accessHistory).toEqual(recorded.status?.accessHistory);
  });

  it('never grants access past the recorded end: expiresAt moved 30 days ahead without an extension is not honoured', async () => {
    site = await startTestSite();
    await withoutTransitionRules();
    await site.startOperator();
    const ended = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000).toISOString().replace('.000Z', 'Z');
    await site.apply([enclave({ validFrom: '2026-01-01T00:00:00Z', expiresAt: ended })]);
    await site.waitFor('access ended', async () => conditionOf(await live(), 'AccessActive')?.reason === 'Expired');
    const moved = new Date(Date.now() + 30 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await site.apply([enclave({ validFrom: '2026-01-01T00:00:00Z', expiresAt: moved })]);
    // The operator has seen the new generation and still reports the recorded end.
    const seen = await site.waitFor('the edit observed', async () => {
      const e = await live();
      return (e?.status as { observedGeneration?: number } | undefined)?.observedGeneration === e?.metadata?.generation && e?.metadata?.generation !== 1 && e;
    });
    expect(seen.status?.effectiveExpiresAt).toBe(ended);
    expect(conditionOf(seen, 'AccessActive')?.reason).toBe('Expired');
    expect((await site.client.objects.list('rbac.authorization.k8s.io/v1', 'RoleBinding', 'sde-cardiac-mri')).items).toEqual([]);
  });

  it('is append-only in the CRD too, where the API server runs CEL transition rules (1.25 and later; the devcluster does)', async () => {
    site = await startTestSite();
    await site.apply([enclave()]);
    const refused = async (object: Obj): Promise<string> => site!.apply([object]).then(() => 'accepted', (error: unknown) => `${statusCodeOf(error)} ${String((error as Error).message)}`);
    expect(await refused(enclave({ expiresAt: '2028-01-30T23:59:59Z' }))).toMatch(/^422 .*spec\.access\.expiresAt: Invalid value: .*is fixed once set/);
    expect(await refused(enclave({ extensions: [extension] }))).toBe('accepted');
    expect(await refused(enclave())).toMatch(/^422 .*spec\.access\.extensions: Invalid value: .*extensions are append-only/);
    expect(await refused(enclave({ extensions: [{ ...extension, justification: 'rewritten' }] }))).toMatch(/^422 .*extensions are append-only/);
  });
});
