// End to end on a real cluster: runs when KUBECONFIG points at one, skipped with a message otherwise.
// It installs the CRDs, runs the operator in this process against the cluster (as `sde-operator
// run` would), and drives the scenarios through the API. Workspace pods need the site's images
// to pull, so their readiness is only awaited with E2E_EXPECT_PODS=1.
//   KUBECONFIG=~/.kube/config E2E_SITE_CONFIG=examples/site-uclh.yaml npm run test:e2e
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { allCustomResourceDefinitions } from '../../api/crd.ts';
import { enclave as enclaveSchema } from '../../api/enclave.ts';
import { reviewAccess, subjectAccessReviewer, summariseAccess } from '../../isolation/index.ts';
import { createOperator } from '../../operator/operator.ts';
import { createLogger, KubeClient } from '../../operator/runtime/index.ts';
import type { Manager } from '../../operator/runtime/index.ts';
import { loadSiteConfig } from '../../operator/site-config.ts';

const kubeconfig = process.env.KUBECONFIG;
if (!kubeconfig) console.warn('test:e2e skipped: set KUBECONFIG to a cluster to run the end-to-end suite');

const SDE = 'sde.london/v1alpha1';
const RUN = `e2e-${Date.now().toString(36)}`;
const NS = `sde-${RUN}`;
type Obj = KubernetesObject & { spec?: Record<string, unknown>; status?: { conditions?: { type: string; status: string; reason: string; message: string }[]; phase?: string } };

const docs = (file: string): Obj[] => parseAllDocuments(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8')).map((d) => d.toJS() as Obj);

describe.skipIf(!kubeconfig)(`the operator on the cluster in KUBECONFIG (run ${RUN})`, () => {
  const site = loadSiteConfig(process.env.E2E_SITE_CONFIG ?? 'examples/site-uclh.yaml');
  let client: KubeClient;
  let kubeConfig: KubeConfig;
  let operator: Manager;

  const get = async (apiVersion: string, kind: string, name: string, namespace?: string): Promise<Obj | undefined> => {
    try {
      return (await client.objects.read({ apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } })) as Obj;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  };
  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 120_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const v = await probe().catch(() => undefined);
      if (v !== undefined && v !== false) return v;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const ready = (o: Obj | undefined): boolean => o?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const enclave = (): Obj => {
    const e = docs('enclave-cardiac-mri.yaml')[0] as Obj;
    e.metadata = { name: RUN };
    (e.spec as Record<string, unknown>).site = site.site;
    return e;
  };

  beforeAll(async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig as string);
    client = new KubeClient(kc);
    kubeConfig = kc;
    for (const { crd } of allCustomResourceDefinitions()) await client.apply(crd as KubernetesObject, { fieldManager: 'sde-e2e', force: true });
    operator = createOperator({ site, kubeConfig: kc, port: 0, host: '127.0.0.1', logger: createLogger({ level: 'warn' }) });
    await operator.start();
  });
  afterAll(async () => {
    await client?.objects.delete({ apiVersion: SDE, kind: 'Enclave', metadata: { name: RUN } }).catch(() => undefined);
    await operator?.stop();
  });

  it('provisions an enclave: Ready, namespace PSA restricted, default-deny first', async () => {
    await client.apply(enclave(), { fieldManager: 'sde-e2e', force: true });
    await waitFor('enclave Ready', async () => ready(await get(SDE, 'Enclave', RUN)));
    const ns = await get('v1', 'Namespace', NS);
    expect(ns?.metadata?.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const policies = (await client.objects.list('networking.k8s.io/v1', 'NetworkPolicy', NS)).items as Obj[];
    expect(policies.some((p) => JSON.stringify((p.spec as { podSelector?: unknown }).podSelector) === '{}' && !(p.spec as { ingress?: unknown }).ingress && !(p.spec as { egress?: unknown }).egress)).toBe(true);
  });

  it('gives each member what the role means in the enclave, asked of the cluster with SubjectAccessReview', async () => {
    const live = enclaveSchema.parse(await get(SDE, 'Enclave', RUN));
    const enclaves = [{ name: RUN, spec: live.spec }];
    const summary = summariseAccess(await reviewAccess(enclaves, subjectAccessReviewer(kubeConfig), { neighbours: 0 }));
    // Only this enclave's namespace and cluster scope are asked: the cluster's other bindings are the site's business.
    expect(summary.beyondSpecs.map((r) => `${r.subject.label} ${JSON.stringify(r.attributes)}`)).toEqual([]);
    expect(summary.missing.map((r) => `${r.subject.label} ${JSON.stringify(r.attributes)}`)).toEqual([]);
  });

  it('runs the example workspaces (pods awaited only with E2E_EXPECT_PODS=1)', async () => {
    const ws = [...docs('workspace-jupyter-gpu.yaml'), ...docs('workspace-rstudio.yaml')].map((w) => ({ ...w, metadata: { ...w.metadata, namespace: NS } }));
    for (const w of ws) await client.apply(w, { fieldManager: 'sde-e2e', force: true });
    for (const w of ws) {
      const sts = await waitFor(`StatefulSet ${w.metadata?.name}`, async () => get('apps/v1', 'StatefulSet', w.metadata?.name ?? '', NS));
      expect(sts.spec?.replicas).toBe(1);
      if (process.env.E2E_EXPECT_PODS === '1') await waitFor(`${w.metadata?.name} Ready`, async () => ready(await get(SDE, 'Workspace', w.metadata?.name ?? '', NS)), 600_000);
    }
  });

  it('expires access on time and restores it on extension, deleting nothing', async () => {
    const e = enclave();
    (e.spec as { access: Record<string, unknown> }).access.expiresAt = new Date(Date.now() + 5_000).toISOString();
    await client.apply(e, { fieldManager: 'sde-e2e', force: true });
    await waitFor('bindings removed', async () => ((await client.objects.list('rbac.authorization.k8s.io/v1', 'RoleBinding', NS)).items.length === 0), 30_000);
    const claims = (await client.objects.list('v1', 'PersistentVolumeClaim', NS)).items.length;
    (e.spec as { access: Record<string, unknown> }).access.extensions = [{ until: '2099-01-01T00:00:00Z', justification: 'e2e', approvedBy: 'e2e' }];
    await client.apply(e, { fieldManager: 'sde-e2e', force: true });
    await waitFor('bindings back', async () => ((await client.objects.list('rbac.authorization.k8s.io/v1', 'RoleBinding', NS)).items.length > 0), 30_000);
    expect((await client.objects.list('v1', 'PersistentVolumeClaim', NS)).items.length).toBe(claims);
  });

  it('deleting the enclave removes the namespace and keeps dataset volumes', async () => {
    const pvs = async () => ((await client.objects.list('v1', 'PersistentVolume')).items as Obj[]).filter((p) => p.metadata?.labels?.['sde.london/enclave'] === RUN);
    const before = await pvs();
    await client.objects.delete({ apiVersion: SDE, kind: 'Enclave', metadata: { name: RUN } });
    await waitFor('namespace gone', async () => (await get('v1', 'Namespace', NS)) === undefined, 300_000);
    expect((await pvs()).length).toBe(before.length);
  });
});
