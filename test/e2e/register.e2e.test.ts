// The data use register on a real cluster: the record is a ConfigMap the API server keeps, the
// operator (the `sde-operator run` process) writes nothing after a SIGKILL restart (audit log),
// and the project stays listed, closed, once its enclave and namespace are gone. No member named.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { KubeClient } from '../../operator/runtime/index.ts';
import { auditLogPath, auditMark, connect, installCrds, isReady, K, kubeconfigPath, list, OPERATOR_NAMESPACE, OperatorProcess, operatorRequestsSince, read, until, type Live } from './harness.ts';

const RUN = `reg-${Date.now().toString(36)}`;
const PROJECT = `SDE-E2E-${RUN}`;
const QUIET_SECONDS = 20;

function enclave(): Live {
  const e = structuredClone(parseAllDocuments(readFileSync(new URL('../../examples/enclave-cardiac-mri.yaml', import.meta.url), 'utf8'))[0]?.toJS() as Live);
  e.metadata = { name: RUN };
  const spec = e.spec as { project: { id: string }; members: Array<Record<string, string>> };
  spec.project.id = PROJECT;
  spec.members.push({ group: 'cardiac-imaging-team', role: 'researcher' });
  return e;
}

describe.skipIf(!kubeconfigPath)(`the data use register on the cluster in KUBECONFIG (run ${RUN})`, () => {
  let client: KubeClient;
  let operator: OperatorProcess;
  type Record = Live & { data?: { [key: string]: string } };
  const record = async (): Promise<Record | undefined> => (await list(client, K.ConfigMap, OPERATOR_NAMESPACE)).find((c) => c.metadata?.labels?.['sde.london/registered-enclave'] === RUN);
  const page = async (path: string): Promise<string> => {
    const response = await fetch(`http://127.0.0.1:${operator.logged('operator started')?.registerPort as number}${path}`);
    if (response.status !== 200) throw new Error(`expected 200 from ${path}, found ${response.status}`);
    return response.text();
  };
  const project = async (): Promise<{ status: string; closedAt: string | null } | undefined> =>
    (JSON.parse(await page('/register.json')) as { projects: Array<{ projectId: string; status: string; closedAt: string | null }> }).projects.find((p) => p.projectId === PROJECT);

  beforeAll(async () => {
    ({ client } = connect());
    await installCrds(client);
    operator = await OperatorProcess.start();
  });
  afterAll(async () => {
    await client?.delete({ apiVersion: K.Enclave.apiVersion, kind: 'Enclave', metadata: { name: RUN } }).catch(() => undefined);
    await operator?.stop();
  });

  it('keeps the project as a ConfigMap, serves it without members, and writes nothing after a SIGKILL restart', async () => {
    await client.apply(enclave(), { fieldManager: 'sde-e2e', force: true });
    const stored = await until('the record', record, 60_000);
    expect(stored.metadata?.ownerReferences).toBeUndefined();
    expect((await project())?.status).toBe('active');
    const published = [stored.data ? JSON.stringify(stored.data) : '', await page('/'), await page('/register.csv'), await page('/register.json')].join('\n');
    for (const identity of ['j.patel@ucl.ac.uk', 'm.okafor@ucl.ac.uk', 's.nguyen@uclh.nhs.uk', 'cardiac-imaging-team']) expect(published).not.toContain(identity);

    // Killed once the site has settled: whatever the new process writes, it wrote afresh.
    await until('the enclave Ready', async () => isReady(await read(client, K.Enclave, RUN)), 120_000);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await operator.stop('SIGKILL');
    const mark = auditMark();
    operator = await OperatorProcess.start();
    await new Promise((resolve) => setTimeout(resolve, QUIET_SECONDS * 1000));
    expect((await record())?.metadata?.resourceVersion).toBe(stored.metadata?.resourceVersion);
    if (auditLogPath) expect((await operatorRequestsSince(mark)).writes).toEqual({});
    expect((await project())?.status).toBe('active');
  });

  it('lists the project, closed, once its enclave and namespace are gone', async () => {
    await client.delete({ apiVersion: K.Enclave.apiVersion, kind: 'Enclave', metadata: { name: RUN } });
    await until('the enclave gone', async () => (await read(client, K.Enclave, RUN)) === undefined, 60_000);
    // The garbage collector and the namespace controller take the namespace; the record has no owner.
    await until('the namespace gone', async () => (await read(client, K.Namespace, `sde-${RUN}`)) === undefined, 120_000);
    const closed = await until('the project closed', async () => {
      const p = await project();
      return p?.status === 'closed' && p;
    }, 30_000);
    expect(closed.closedAt).not.toBeNull();
    expect(JSON.parse((await record())?.data?.['record.json'] ?? '{}')).toMatchObject({ project: { id: PROJECT }, closedAt: closed.closedAt });
  });
});
