// The isolation monitor on a real control plane (issue 19): the operator runs as the
// `sde-operator run` process a site runs (report-only, the default), and each drift is planted by
// hand through the real API server: a NetworkPolicy opening egress, a RoleBinding and a
// ClusterRoleBinding granting members Secrets (judged by the real RBAC authorizer through
// SubjectAccessReview), a deleted default-deny and a Pod Security label changed. Each is found with
// the object named, and removing it restores the condition; the times are printed. Then, with the
// operator in-process on a site that asks for revert and gating, a foreign policy is deleted and a
// workspace stopped while the enclave is breached.
import { readFileSync } from 'node:fs';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { siteConfig } from '../../api/siteconfig.ts';
import { createOperator } from '../../operator/operator.ts';
import { createLogger } from '../../operator/runtime/index.ts';
import type { KubeClient, Manager } from '../../operator/runtime/index.ts';
import { auditLogPath, auditMark, connect, installCrds, isReady, K, kubeconfigPath, OperatorProcess, operatorRequestsSince, read, until, type Live } from './harness.ts';

const RUN = `iso-${Date.now().toString(36)}`;
const NS = `sde-${RUN}`;
const RBAC = 'rbac.authorization.k8s.io/v1';
const example = (file: string): Live[] => parseAllDocuments(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8')).map((d) => d.toJS() as Live);
type Condition = { type: string; status: string; reason: string; message: string };

function enclave(name: string): Live {
  const e = structuredClone(example('enclave-cardiac-mri.yaml')[0] as Live);
  e.metadata = { name };
  return e;
}

const openEgress = (namespace: string): Live => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'open-egress', namespace }, spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] } } as Live);

describe.skipIf(!kubeconfigPath)(`the isolation monitor on the cluster in KUBECONFIG (run ${RUN})`, () => {
  let client: KubeClient;
  let operator: OperatorProcess;
  const apply = (object: Live): Promise<KubernetesObject> => client.apply(object, { fieldManager: 'sde-e2e', force: true });
  const condition = async (name: string, type: string): Promise<Condition | undefined> => ((await read(client, K.Enclave, name))?.status as { conditions?: Condition[] } | undefined)?.conditions?.find((c) => c.type === type);
  const events = async (name: string, reason: string): Promise<string[]> =>
    ((await client.list(K.Event)).items as Array<{ reason?: string; message?: string; involvedObject?: { name?: string } }>).filter((e) => e.reason === reason && e.involvedObject?.name === name).map((e) => e.message ?? '');

  /** Applies `plant`, waits for `type` to turn False; then `remove`, and waits for True. Returns both times. */
  async function plantAndRemove(type: string, plant: () => Promise<unknown>, remove: () => Promise<unknown>, named: string): Promise<{ foundMs: number; restoredMs: number; message: string }> {
    let start = Date.now();
    await plant();
    const found = await until(`${type} False`, async () => {
      const c = await condition(RUN, type);
      return c?.status === 'False' && c;
    }, 60_000, 50);
    const foundMs = Date.now() - start;
    expect(found.message).toContain(named);
    start = Date.now();
    await remove();
    await until(`${type} True again`, async () => (await condition(RUN, type))?.status === 'True', 60_000, 50);
    return { foundMs, restoredMs: Date.now() - start, message: found.message };
  }

  beforeAll(async () => {
    ({ client } = connect());
    await installCrds(client);
    operator = await OperatorProcess.start();
    await apply(enclave(RUN));
    await until('NetworkIsolated and AccessIsolated True', async () => (await condition(RUN, 'NetworkIsolated'))?.status === 'True' && (await condition(RUN, 'AccessIsolated'))?.status === 'True', 120_000);
  });

  afterAll(async () => {
    await client?.delete({ apiVersion: RBAC, kind: 'ClusterRoleBinding', metadata: { name: `${RUN}-secrets` } }).catch(() => undefined);
    await client?.delete({ apiVersion: RBAC, kind: 'ClusterRole', metadata: { name: `${RUN}-secrets` } }).catch(() => undefined);
    await client?.delete({ apiVersion: K.Enclave.apiVersion, kind: 'Enclave', metadata: { name: RUN } }).catch(() => undefined);
    await operator?.stop();
  });

  it('a NetworkPolicy opening egress: found naming it, left in place (report-only), True once it goes', async () => {
    const t = await plantAndRemove('NetworkIsolated', () => apply(openEgress(NS)), () => client.delete(openEgress(NS)), `NetworkPolicy ${NS}/open-egress`);
    console.log(`foreign egress policy: found in ${t.foundMs} ms, restored in ${t.restoredMs} ms: ${t.message}`);
    expect((await events(RUN, 'IsolationBreached')).some((m) => m.includes('open-egress'))).toBe(true);
  });

  it('a RoleBinding granting a member Secrets: found by SubjectAccessReview naming it, True once it goes', async () => {
    const role = { apiVersion: RBAC, kind: 'Role', metadata: { name: 'read-secrets', namespace: NS }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }] } as Live;
    const binding = { apiVersion: RBAC, kind: 'RoleBinding', metadata: { name: 'helpful-admin', namespace: NS }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-secrets' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'm.okafor@ucl.ac.uk' }] } as Live;
    await apply(role);
    const mark = auditMark();
    const t = await plantAndRemove('AccessIsolated', () => apply(binding), () => client.delete(binding), `RoleBinding ${NS}/helpful-admin`);
    console.log(`foreign RoleBinding: found in ${t.foundMs} ms, restored in ${t.restoredMs} ms: ${t.message}`);
    if (auditLogPath) {
      const requests = await operatorRequestsSince(mark);
      console.log(`the operator's requests meanwhile: ${JSON.stringify(requests.reads['create subjectaccessreviews'] ?? 0)} SubjectAccessReviews; writes ${JSON.stringify(requests.writes)}`);
      expect(requests.reads['create subjectaccessreviews']).toBeGreaterThan(0);
    }
  });

  it('a ClusterRoleBinding granting every signed-in user Secrets: found naming it, never deleted', async () => {
    await apply({ apiVersion: RBAC, kind: 'ClusterRole', metadata: { name: `${RUN}-secrets` }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }] } as Live);
    const binding = { apiVersion: RBAC, kind: 'ClusterRoleBinding', metadata: { name: `${RUN}-secrets` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${RUN}-secrets` }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:authenticated' }] } as Live;
    const t = await plantAndRemove('AccessIsolated', () => apply(binding), async () => {
      expect(await read(client, K.ClusterRoleBinding, `${RUN}-secrets`)).toBeDefined();
      await client.delete(binding);
    }, `ClusterRoleBinding ${RUN}-secrets`);
    console.log(`foreign ClusterRoleBinding: found in ${t.foundMs} ms, restored in ${t.restoredMs} ms`);
  });

  it('a deleted default-deny and a Pod Security label changed: put back, and reported', async () => {
    let start = Date.now();
    await client.delete({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'default-deny', namespace: NS } });
    await until('default-deny back and reported', async () => (await read(client, K.NetworkPolicy, 'default-deny', NS)) !== undefined && (await events(RUN, 'IsolationDriftReverted')).some((m) => m.includes(`NetworkPolicy ${NS}/default-deny`)), 60_000, 50);
    console.log(`deleted default-deny: put back and reported in ${Date.now() - start} ms`);
    start = Date.now();
    await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } } }, { fieldManager: 'sde-e2e', force: true });
    await until('restricted again and reported', async () => (await read(client, K.Namespace, NS))?.metadata?.labels?.['pod-security.kubernetes.io/enforce'] === 'restricted' && (await events(RUN, 'IsolationDriftReverted')).some((m) => m.includes(`Namespace ${NS}`)), 60_000, 50);
    console.log(`Pod Security label: put back and reported in ${Date.now() - start} ms`);
  });
});

describe.skipIf(!kubeconfigPath)(`gating and revert on the cluster in KUBECONFIG (run ${RUN}-g)`, () => {
  const name = `${RUN}-g`;
  const namespace = `sde-${name}`;
  let client: KubeClient;
  let kubeConfig: ReturnType<typeof connect>['kubeConfig'];
  let operator: Manager | undefined;
  const uclh = siteConfig.parse(parse(readFileSync(new URL('../../examples/site-uclh.yaml', import.meta.url), 'utf8')));
  const replicas = async (): Promise<number | undefined> => ((await read(client, K.StatefulSet, 'patel-rstudio', namespace))?.spec as { replicas?: number } | undefined)?.replicas;

  /** (Re)starts the operator in-process for uclh with these isolation settings. */
  async function start(isolation: Record<string, unknown>): Promise<void> {
    await operator?.stop();
    const site = siteConfig.parse({ ...uclh, isolation: { ...uclh.isolation, ...isolation } });
    operator = createOperator({ site, kubeConfig, port: false, logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
    await operator.start();
  }

  beforeAll(async () => {
    ({ client, kubeConfig } = connect());
    await installCrds(client);
  });

  afterAll(async () => {
    await client?.delete({ apiVersion: K.Enclave.apiVersion, kind: 'Enclave', metadata: { name } }).catch(() => undefined);
    await operator?.stop();
  });

  it('with gateWorkspaces, stops a workspace while a foreign policy breaches the enclave, and starts it again once it goes', async () => {
    await start({ gateWorkspaces: true });
    await client.apply(enclave(name), { fieldManager: 'sde-e2e', force: true });
    // The operator creates the enclave's namespace; a workspace applied before it exists is refused (404).
    await until('the enclave Ready', async () => isReady(await read(client, K.Enclave, name)), 120_000);
    const rstudio = { ...(example('workspace-rstudio.yaml')[0] as Live), metadata: { name: 'patel-rstudio', namespace } } as Live;
    await client.apply(rstudio, { fieldManager: 'sde-e2e', force: true });
    await until('the workspace running', async () => (await replicas()) === 1, 120_000);
    let begin = Date.now();
    await client.apply(openEgress(namespace), { fieldManager: 'sde-e2e', force: true });
    await until('the workspace stopped', async () => (await replicas()) === 0, 60_000, 50);
    console.log(`gate: workspace scaled to 0 ${Date.now() - begin} ms after the policy was created`);
    const admitted = ((await read(client, K.Workspace, 'patel-rstudio', namespace))?.status as { conditions?: Condition[] } | undefined)?.conditions?.find((c) => c.type === 'Admitted');
    expect(admitted).toMatchObject({ status: 'False', reason: 'EnclaveNotIsolated' });
    begin = Date.now();
    await client.delete(openEgress(namespace));
    await until('the workspace running again', async () => (await replicas()) === 1, 60_000, 50);
    console.log(`gate: workspace back at 1 replica ${Date.now() - begin} ms after the policy went`);
  });

  it('with onDrift revert, deletes the foreign policy with a Warning Event naming it', async () => {
    await start({ onDrift: 'revert' });
    const begin = Date.now();
    await client.apply(openEgress(namespace), { fieldManager: 'sde-e2e', force: true });
    await until('the policy deleted', async () => (await read(client, K.NetworkPolicy, 'open-egress', namespace)) === undefined, 60_000, 50);
    console.log(`revert: foreign egress policy deleted ${Date.now() - begin} ms after it was created`);
    const reverted = await until('the IsolationReverted Event', async () => ((await client.list(K.Event)).items as Array<{ reason?: string; message?: string }>).find((e) => e.reason === 'IsolationReverted' && e.message?.includes(`NetworkPolicy ${namespace}/open-egress`)), 30_000);
    expect(reverted.message).toContain('egress');
    expect(await replicas()).toBe(1);
  });
});
