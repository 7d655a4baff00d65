// Access ends on time, and first: at the effective expiry an enclave's member bindings go even
// when its latest edit is refused or the rest of it fails to apply, and when many enclaves expire
// at once every revocation is written before any status reports one. Over HTTP against the
// devcluster with the real operator.
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { allCustomResourceDefinitions } from '../../api/crd.ts';
import { KubeApiError } from '../../operator/runtime/errors.ts';
import { KubeClient } from '../../operator/runtime/kube.ts';
import { enclaveName, fleetEnclave, fleetWorkspaces } from '../../bench/lib/fleet.ts';
import type { Manifest } from '../../bench/lib/fleet.ts';
import { conditionOf, startTestSite } from './harness.ts';
import type { TestSite } from './harness.ts';

const SDE = 'sde.london/v1alpha1';
type Obj = KubernetesObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

/** An expiresAt `seconds` from now, whole seconds (the CRD's date-time). */
const inSeconds = (seconds: number): string => new Date(Math.ceil(Date.now() / 1000) * 1000 + seconds * 1000).toISOString().replace('.000Z', 'Z');

describe('revocation at expiry', () => {
  let site: TestSite | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    await site?.close();
    site = undefined;
  });

  const bindings = async (name: string): Promise<number> => (await site!.client.objects.list('rbac.authorization.k8s.io/v1', 'RoleBinding', `sde-${name}`)).items.length;
  const enclaveReady = (name: string): Promise<Obj> =>
    site!.waitFor(`enclave ${name} Ready`, async () => {
      const e = await site!.get<Obj>(SDE, 'Enclave', name);
      return conditionOf(e, 'Ready')?.status === 'True' && e;
    });

  /** The enclave once its status reports access ended (AccessActive=False, Expired). */
  const reportedExpired = (name: string): Promise<Obj> =>
    site!.waitFor(`${name} reported expired`, async () => {
      const e = await site!.get<Obj>(SDE, 'Enclave', name);
      return conditionOf(e, 'AccessActive')?.reason === 'Expired' && e;
    });

  /** A site with its operator and one enclave of `prefix` expiring `seconds` from now, Ready, its members bound. */
  const expiringEnclave = async (prefix: string, seconds: number): Promise<{ name: string; doc: Manifest; beforeExpiry: () => void }> => {
    site = await startTestSite();
    await site.startOperator();
    const name = enclaveName(0, prefix);
    const expiresAt = inSeconds(seconds);
    const doc = fleetEnclave(0, { prefix, expiresAt });
    await site.apply([doc]);
    await enclaveReady(name);
    expect(await bindings(name)).toBeGreaterThan(0);
    // The case under test must be set up while access lasts.
    const beforeExpiry = (): void => expect(Date.now(), 'still before expiresAt').toBeLessThan(Date.parse(expiresAt));
    return { name, doc, beforeExpiry };
  };

  it('removes the member bindings of an enclave whose latest edit the site refuses, and says so in its status', async () => {
    const { name, doc, beforeExpiry } = await expiringEnclave('refused', 10);
    if (site === undefined) throw new Error('expected a site');

    // Schema-valid, refused by the site rules: nothing is applied for it, but the clock still runs.
    const hostile: Manifest = { ...doc, spec: { ...doc.spec, network: { packageMirror: true, egress: [{ cidr: '8.8.8.0/24', ports: [{ port: 443 }], reason: 'the internet' }] } } };
    await site.apply([hostile]);
    await site.waitFor('the edit refused', async () => conditionOf(await site!.get(SDE, 'Enclave', name), 'SpecValid')?.status === 'False');
    beforeExpiry();
    expect(await bindings(name), 'a refused edit changes nothing while access lasts').toBeGreaterThan(0);

    await site.waitFor('member bindings removed at expiry', async () => (await bindings(name)) === 0, 15_000);
    const expired = await reportedExpired(name);
    expect(conditionOf(expired, 'SpecValid')).toMatchObject({ status: 'False', reason: 'EgressNotAllowed' });
    expect(conditionOf(expired, 'Ready')?.status).toBe('False');
  });

  it('removes them when the rest of the enclave fails to apply', async () => {
    const { name, doc, beforeExpiry } = await expiringEnclave('failing', 10);
    if (site === undefined) throw new Error('expected a site');

    // From now on the API server refuses the enclave's ResourceQuota, and an edit changes it.
    const apply = KubeClient.prototype.apply;
    vi.spyOn(KubeClient.prototype, 'apply').mockImplementation(async function (this: KubeClient, object, options) {
      if (object.kind === 'ResourceQuota' && object.metadata?.namespace === `sde-${name}`) throw new KubeApiError(422, `apply ResourceQuota sde-${name}/${object.metadata.name}`, { message: 'refused for this test' });
      return apply.call(this, object, options);
    });
    const edited: Manifest = { ...doc, spec: { ...doc.spec, resources: { ...(doc.spec.resources as object), cpu: '12' } } };
    await site.apply([edited]);
    await site.waitFor('the apply reported failing', async () => conditionOf(await site!.get(SDE, 'Enclave', name), 'Applied')?.reason === 'ApplyFailed');
    beforeExpiry();

    await site.waitFor('member bindings removed at expiry', async () => (await bindings(name)) === 0, 15_000);
  });

  it('stops a workspace whose latest edit the site refuses at once: what it last ran does not keep running', async () => {
    const { name } = await expiringEnclave('stopping', 60);
    if (site === undefined) throw new Error('expected a site');
    const namespace = `sde-${name}`;
    const ws = fleetWorkspaces(0, { prefix: 'stopping' })[1] as Manifest;
    await site.apply([ws]);
    await site.waitFor('workspace Ready', async () => conditionOf(await site!.get(SDE, 'Workspace', ws.metadata?.name ?? '', namespace), 'Ready')?.status === 'True');
    const statefulSet = () => site!.get<Obj & { spec: { replicas: number; template: unknown } }>('apps/v1', 'StatefulSet', ws.metadata?.name ?? '', namespace);
    const running = await statefulSet();
    expect(running?.spec.replicas).toBe(1);

    // An image from a registry the site does not allow: refused, so nothing is rendered for it,
    // and what it last ran stops long before access ends.
    const refused: Manifest = { ...ws, spec: { ...ws.spec, image: 'docker.io/someone/jupyter:latest' } };
    await site.apply([refused]);
    await site.waitFor('the edit refused', async () => conditionOf(await site!.get(SDE, 'Workspace', ws.metadata?.name ?? '', namespace), 'SpecValid')?.reason === 'ImageNotAllowed');
    const stopped = await site.waitFor('scaled to zero', async () => {
      const s = await statefulSet();
      return s?.spec.replicas === 0 && s;
    }, 5_000);
    // Only the replicas changed: the refused image was never rolled out.
    expect(stopped.spec.template).toEqual(running?.spec.template);
  });

  it('removes them, and stops the workspaces, of an enclave whose spec stopped passing the operator\'s schema', async () => {
    const { name, doc, beforeExpiry } = await expiringEnclave('invalid', 12);
    if (site === undefined) throw new Error('expected a site');
    const namespace = `sde-${name}`;
    const ws = fleetWorkspaces(0, { prefix: 'invalid' })[0] as Manifest;
    await site.apply([ws]);
    await site.waitFor('workspace Ready', async () => conditionOf(await site!.get(SDE, 'Workspace', ws.metadata?.name ?? '', namespace), 'Ready')?.status === 'True');

    // As if the Enclave CRD installed were an older, looser one than the operator's schema: the API
    // server stores a spec the operator refuses (here a negative GPU count).
    const crd = allCustomResourceDefinitions().find((c) => c.file.startsWith('enclaves.'))!.crd as { spec: { versions: { schema: { openAPIV3Schema: { properties: Record<string, unknown> } } }[] } };
    for (const version of crd.spec.versions) version.schema.openAPIV3Schema.properties.spec = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    await site.apply([crd as unknown as KubernetesObject]);
    const invalid: Manifest = { ...doc, spec: { ...doc.spec, resources: { ...(doc.spec.resources as object), gpus: -1 } } };
    await site.apply([invalid]);
    await site.waitFor('the spec refused', async () => conditionOf(await site!.get(SDE, 'Enclave', name), 'SpecValid')?.reason === 'InvalidSpec');
    beforeExpiry();
    expect(await bindings(name), 'an invalid spec changes nothing while access lasts').toBeGreaterThan(0);

    await site.waitFor('member bindings removed at expiry', async () => (await bindings(name)) === 0, 15_000);
    await site.waitFor('workspace scaled to zero at expiry', async () => (await site!.get<Obj>('apps/v1', 'StatefulSet', ws.metadata?.name ?? '', namespace))?.spec?.replicas === 0, 15_000);
    const expired = await reportedExpired(name);
    expect(conditionOf(expired, 'SpecValid')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(conditionOf(expired, 'SpecValid')?.message).toContain('spec.resources.gpus');
  });

  it('when many enclaves expire at once, removes every binding and stops every workspace before reporting any of them', async () => {
    site = await startTestSite();
    const count = 8;
    const expiresAt = inSeconds(15);
    const names = Array.from({ length: count }, (_, i) => enclaveName(i, 'many'));
    await site.startOperator({ concurrency: 2 });
    for (let i = 0; i < count; i++) await site.apply([fleetEnclave(i, { prefix: 'many', expiresAt })]);
    for (const name of names) await enclaveReady(name);
    for (let i = 0; i < count; i++) await site.apply([fleetWorkspaces(i, { prefix: 'many' })[0] as Manifest]);
    for (const name of names) {
      await site.waitFor(`${name}'s workspace Ready`, async () => conditionOf(await site!.get(SDE, 'Workspace', 'patel-rstudio', `sde-${name}`), 'Ready')?.status === 'True');
    }
    expect(Date.now(), 'the fleet converged before expiresAt').toBeLessThan(Date.parse(expiresAt));

    // The operator's writes from here on, in the order it sends them.
    const writes: string[] = [];
    const original = { apply: KubeClient.prototype.apply, deleteCollection: KubeClient.prototype.deleteCollection, delete: KubeClient.prototype.delete, patchStatus: KubeClient.prototype.patchStatus };
    vi.spyOn(KubeClient.prototype, 'apply').mockImplementation(function (this: KubeClient, object, options) {
      if (object.kind === 'StatefulSet') writes.push(`stop ${object.metadata?.namespace} replicas=${(object as Obj).spec?.replicas}`);
      return original.apply.call(this, object, options);
    });
    vi.spyOn(KubeClient.prototype, 'deleteCollection').mockImplementation(function (this: KubeClient, type, namespace, selector) {
      if (type.kind === 'RoleBinding') writes.push(`revoke ${namespace}`);
      return original.deleteCollection.call(this, type, namespace, selector);
    });
    vi.spyOn(KubeClient.prototype, 'delete').mockImplementation(function (this: KubeClient, object) {
      if (object.kind === 'RoleBinding') writes.push(`revoke ${object.metadata?.namespace}`);
      return original.delete.call(this, object);
    });
    vi.spyOn(KubeClient.prototype, 'patchStatus').mockImplementation(function (this: KubeClient, type, name, namespace, status) {
      writes.push(`status ${type.kind} ${(status as { phase?: string }).phase}`);
      return original.patchStatus.call(this, type, name, namespace, status);
    });

    for (const name of names) {
      await reportedExpired(name);
      await site.waitFor(`${name}'s workspace reported suspended`, async () => (await site!.get<Obj>(SDE, 'Workspace', 'patel-rstudio', `sde-${name}`))?.status?.phase === 'Suspended');
    }
    const revocations = writes.filter((w) => w.startsWith('revoke'));
    const stops = writes.filter((w) => w.startsWith('stop'));
    expect(new Set(revocations)).toEqual(new Set(names.map((name) => `revoke sde-${name}`)));
    expect(stops).toEqual(names.map(() => expect.stringMatching(/ replicas=0$/)));
    // Each controller writes its revocations first: the enclaves' before any Enclave reports
    // Expired, the workspaces' before any Workspace reports Suspended (the two run side by side).
    const before = (revoking: string[], report: string): void => {
      const first = writes.indexOf(report);
      expect(first, writes.join('\n')).toBeGreaterThan(-1);
      expect(Math.max(...revoking.map((w) => writes.lastIndexOf(w))), writes.join('\n')).toBeLessThan(first);
    };
    before(revocations, 'status Enclave Expired');
    before(stops, 'status Workspace Suspended');
  });
});
