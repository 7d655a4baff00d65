// The same scenario on both servers: the project's devcluster and the real control plane in
// KUBECONFIG. The operator (the `sde-operator run` process) converges the examples on each, and the
// outcome a user would see — statuses, the objects in the enclave, claims, where pods run, and
// the operator's writes at steady state counted from each server's audit log — must agree. A
// difference is a divergence of the devcluster to fix (or a behaviour that holds only locally).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { MANAGED_BY, MANAGER } from '../../api/labels.ts';
import { startDevCluster, type DevCluster } from '../../devcluster/index.ts';
import type { KubeClient } from '../../operator/runtime/index.ts';
import { auditLogPath, auditMark, connect, installCrds, isReady, K, kubeconfigPath, list, OperatorProcess, operatorRequestsSince, read, until, type Live } from './harness.ts';

const RUN = `diff-${Date.now().toString(36)}`;
const NS = `sde-${RUN}`;
const IDLE_MS = 20_000;
const DGX = /^dgx-/;

const example = (file: string): Live[] => parseAllDocuments(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8')).map((d) => d.toJS() as Live);
const inRun = (object: Live): Live => ({ ...object, metadata: { ...object.metadata, namespace: NS } });

/** What a user sees of the scenario on one server, in a form both servers can produce. */
interface Outcome {
  statuses: Record<string, unknown>;
  children: string[];
  claims: Record<string, string | undefined>;
  pods: Record<string, string>;
  datasetVolume: { phase?: string; claim?: string };
  steadyStateWrites: Record<string, number>;
}

const conditionsOf = (o: Live | undefined): string[] => (o?.status?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`).sort();

/** Converges the examples on the server `kubeconfig` names and reads back what a user would see. */
async function scenario(kubeconfig: string, auditLog: string): Promise<Outcome> {
  const { client } = connect(kubeconfig);
  await installCrds(client);
  const operator = await OperatorProcess.start([], kubeconfig);
  try {
    const enclave = structuredClone(example('enclave-cardiac-mri.yaml')[0] as Live);
    enclave.metadata = { name: RUN };
    const apply = (o: Live): Promise<KubernetesObject> => client.apply(o, { fieldManager: 'sde-e2e', force: true });
    await apply(enclave);
    await until('the enclave Ready', async () => isReady(await read(client, K.Enclave, RUN)), 120_000);
    const workloads = [...example('workspace-jupyter-gpu.yaml'), ...example('workspace-rstudio.yaml'), ...example('federatedjob-nvflare.yaml')].map(inRun);
    for (const w of workloads) await apply(w);
    for (const w of workloads.filter((o) => o.kind === 'Workspace')) await until(`${w.metadata?.name} Ready`, async () => isReady(await read(client, K.Workspace, w.metadata?.name as string, NS)), 180_000);
    await until('the federated job Succeeded', async () => (await read(client, K.FederatedJob, 'cardiac-segmentation-fl', NS))?.status?.phase === 'Succeeded', 180_000);
    // Let the last status writes land, then count the writes of an idle operator.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const mark = auditMark(auditLog);
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const steadyStateWrites = (await operatorRequestsSince(mark, new Date(), auditLog)).writes;
    return { ...(await observe(client)), steadyStateWrites };
  } finally {
    await operator.stop();
    await client.delete({ apiVersion: K.Enclave.apiVersion, kind: 'Enclave', metadata: { name: RUN } }).catch(() => undefined);
  }
}

async function observe(client: KubeClient): Promise<Omit<Outcome, 'steadyStateWrites'>> {
  const statuses: Record<string, unknown> = {};
  const enclave = await read(client, K.Enclave, RUN);
  statuses[`Enclave/${RUN}`] = { phase: enclave?.status?.phase, namespace: enclave?.status?.namespace, conditions: conditionsOf(enclave) };
  for (const type of [K.Workspace, K.FederatedJob]) {
    for (const o of await list(client, type, NS)) statuses[`${type.kind}/${o.metadata?.name}`] = { phase: o.status?.phase, conditions: conditionsOf(o) };
  }
  const children: string[] = [];
  for (const type of [K.NetworkPolicy, K.ResourceQuota, K.LimitRange, K.ServiceAccount, K.Role, K.RoleBinding, K.ConfigMap, K.PersistentVolumeClaim, K.Service, K.StatefulSet, K.Deployment, K.Job]) {
    for (const o of await list(client, type, NS)) if (o.metadata?.labels?.[MANAGED_BY] === MANAGER) children.push(`${type.kind}/${o.metadata?.name}`);
  }
  const claims = Object.fromEntries((await list(client, K.PersistentVolumeClaim, NS)).map((c) => [c.metadata?.name as string, c.status?.phase]));
  const pods = Object.fromEntries(
    (await list(client, K.Pod, NS)).map((p) => [p.metadata?.labels?.['job-name'] ?? p.metadata?.name, `${DGX.test(String(p.spec?.nodeName)) ? 'dgx' : 'cpu'} ${p.status?.phase}`]),
  );
  const volume = (await list(client, K.PersistentVolume)).find((v) => v.metadata?.labels?.['sde.london/enclave'] === RUN);
  return { statuses, children: children.sort(), claims, pods, datasetVolume: { phase: volume?.status?.phase, claim: (volume?.spec?.claimRef as { name?: string } | undefined)?.name } };
}

describe.skipIf(!kubeconfigPath || !auditLogPath)(`the same scenario on the devcluster and on the cluster in KUBECONFIG (run ${RUN})`, () => {
  let dev: DevCluster;
  let devAudit: string;
  let local: Outcome;
  let real: Outcome;

  beforeAll(async () => {
    devAudit = join(mkdtempSync(join(tmpdir(), 'sde-diff-')), 'audit.log');
    // As the real control plane's stand-in kubelet: Job pods succeed after 5 s.
    dev = await startDevCluster({ jobRunMillis: 5_000, auditLog: devAudit });
    local = await scenario(dev.kubeconfigPath, devAudit);
    real = await scenario(kubeconfigPath as string, auditLogPath as string);
  }, 900_000);

  afterAll(async () => {
    await dev?.stop();
  });

  it('reports the same statuses and conditions', () => {
    expect(local.statuses).toEqual(real.statuses);
  });

  it('leaves the same objects in the enclave, claims Bound, and the dataset volume bound to its claim', () => {
    expect(local.children).toEqual(real.children);
    expect(local.claims).toEqual(real.claims);
    expect(Object.values(real.claims).every((phase) => phase === 'Bound')).toBe(true);
    expect(local.datasetVolume).toEqual(real.datasetVolume);
  });

  it('places the pods alike: GPU pods on DGX nodes, the others on CPU nodes', () => {
    expect(local.pods).toEqual(real.pods);
  });

  it(`writes nothing at steady state on either server over ${IDLE_MS / 1000} s (each server's audit log)`, () => {
    console.log(`steady-state writes: devcluster ${JSON.stringify(local.steadyStateWrites)}, kube-apiserver ${JSON.stringify(real.steadyStateWrites)}`);
    expect(local.steadyStateWrites).toEqual({});
    expect(real.steadyStateWrites).toEqual({});
  });
});
