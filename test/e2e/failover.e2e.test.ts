// Leader election on a real cluster: two `sde-operator run --leader-elect` processes share a Lease
// in sde-system; only the leader acts, and the standby takes over when the leader crashes
// (after the lease runs out) or stops gracefully (at once, since it releases the lease).
import { readFileSync } from 'node:fs';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { KubeClient } from '../../operator/runtime/index.ts';
import { auditLogPath, auditMark, connect, installCrds, isReady, K, kubeconfigPath, list, OperatorProcess, operatorRequestsSince, read, until, type Live } from './harness.ts';

const RUN = `e2e-lead-${Date.now().toString(36)}`;
const NS = `sde-${RUN}`;
const LEASE_SECONDS = 4;
const ELECTION = ['--leader-elect', '--lease-namespace', 'sde-system', '--lease-duration', String(LEASE_SECONDS)];

function enclave(members: Array<Record<string, string>>): Live {
  const e = parse(readFileSync(new URL('../../examples/enclave-cardiac-mri.yaml', import.meta.url), 'utf8')) as Live;
  e.metadata = { name: RUN };
  (e.spec as { members: unknown }).members = members;
  return e;
}

describe.skipIf(!kubeconfigPath)(`leader failover between two operators (run ${RUN})`, () => {
  let client: KubeClient;
  const operators: OperatorProcess[] = [];
  const members = [{ user: 'j.patel@ucl.ac.uk', role: 'lead' }];
  const apply = (object: Live): Promise<KubernetesObject> => client.apply(object, { fieldManager: 'sde-e2e', force: true });
  const bindings = async (): Promise<number> => (await list(client, K.RoleBinding, NS)).length;
  const leaders = (): OperatorProcess[] => operators.filter((o) => o.child.exitCode === null && o.child.signalCode === null && o.logged('became leader') !== undefined);
  const addMember = async (user: string): Promise<void> => {
    members.push({ user, role: 'researcher' });
    await apply(enclave(members));
  };

  beforeAll(async () => {
    ({ client } = connect());
    await installCrds(client);
    await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sde-system' } }, { fieldManager: 'sde-e2e', force: true });
    operators.push(await OperatorProcess.start(ELECTION), await OperatorProcess.start(ELECTION));
  });

  afterAll(async () => {
    await client?.delete({ apiVersion: K.Enclave.apiVersion, kind: 'Enclave', metadata: { name: RUN } }).catch(() => undefined);
    await Promise.all(operators.map((o) => o.stop()));
  });

  it('elects exactly one leader, which provisions the enclave while the other waits', async () => {
    await until('a leader', async () => leaders().length === 1, 30_000);
    await apply(enclave(members));
    await until('the enclave Ready', async () => isReady(await read(client, K.Enclave, RUN)), 60_000);
    expect(leaders()).toHaveLength(1);
    const lease = await read(client, K.Lease, 'sde-operator-leader', 'sde-system');
    expect(lease?.spec?.holderIdentity).toBe(leaders()[0]?.logged('became leader')?.identity);
  });

  it('fails over when the leader crashes: the standby takes the lease once it runs out and goes on reconciling', async () => {
    const [crashed] = leaders();
    const standby = operators.find((o) => o !== crashed) as OperatorProcess;
    await crashed?.stop('SIGKILL');
    const crashedAt = Date.now();
    await until('the standby to lead', async () => standby.logged('became leader') !== undefined, 30_000, 100);
    const takeoverMs = Date.now() - crashedAt;
    console.log(`standby leading ${takeoverMs} ms after the leader was killed (lease ${LEASE_SECONDS} s)`);
    expect(takeoverMs).toBeLessThan((LEASE_SECONDS + 10) * 1000);
    await addMember('m.okafor@ucl.ac.uk');
    await until('the new member\'s binding from the new leader', async () => (await bindings()) === members.length, 30_000);
  });

  it('hands over at once on a graceful stop: the leader releases the lease for a new standby', async () => {
    operators.push(await OperatorProcess.start(ELECTION));
    const [leader] = leaders();
    const standby = operators.at(-1) as OperatorProcess;
    const mark = auditMark();
    await leader?.stop('SIGTERM');
    const stoppedAt = Date.now();
    await until('the new standby to lead', async () => standby.logged('became leader') !== undefined, 30_000, 100);
    const handoverMs = Date.now() - stoppedAt;
    console.log(`new standby leading ${handoverMs} ms after the leader's graceful stop`);
    expect(handoverMs).toBeLessThan(LEASE_SECONDS * 1000);
    await addMember('s.nguyen@uclh.nhs.uk');
    await until('the third member\'s binding', async () => (await bindings()) === members.length, 30_000);
    if (auditLogPath) {
      // Besides the lease, the handover costs the new binding and the enclave's status: nothing is re-applied.
      const { writes } = await operatorRequestsSince(mark);
      console.log(`writes during the handover: ${JSON.stringify(writes)}`);
      const expected = new Set(['patch rolebindings', 'patch enclaves/status']);
      expect(Object.keys(writes).filter((what) => !/ (leases|events)$/.test(what) && !expected.has(what))).toEqual([]);
    }
  });
});
