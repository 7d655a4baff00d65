// The RBAC matrix of the isolation report: what the specs allow (unit cases), then the operator's
// RBAC for live enclaves asked of the devcluster's authorizer with SubjectAccessReview, checked
// against the specs cell by cell; leaks and losses planted by hand must show up; and a sample of
// the answers asked again with the real `kubectl auth can-i --as` (skipped where kubectl is absent).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enclave as enclaveSchema } from '../../api/enclave.ts';
import { chaosSite, createFleet } from '../../bench/lib/chaos.ts';
import { enclaveName, fleetEnclave, fleetUser, FLEET_SITE, isReady } from '../../bench/lib/fleet.ts';
import { ACCESS_PROBES, expectedAccess, NON_MEMBER, reviewAccess, subjectAccessReviewer, subjectsOf, summariseAccess } from '../../isolation/index.ts';
import type { AccessReview, EnclaveAccess } from '../../isolation/index.ts';
import { SdeKinds } from '../../operator/kinds.ts';
import { createOperator } from '../../operator/operator.ts';
import { createLogger, Kinds } from '../../operator/runtime/index.ts';
import type { Manager } from '../../operator/runtime/index.ts';

const KUBECTL = process.env.KUBECTL ?? '/usr/bin/kubectl';
const hasKubectl = existsSync(KUBECTL);
if (!hasKubectl) console.warn(`kubectl auth can-i cross-check skipped: ${KUBECTL} not found`);

const NOW = new Date('2026-11-27T12:00:00Z');
const spec = (members: EnclaveAccess['spec']['members'], expiresAt = '2027-12-31T00:00:00Z'): EnclaveAccess['spec'] => ({ members, access: { validFrom: '2026-01-01T00:00:00Z', expiresAt, extensions: [] } });
const find = (resource: string, verb: string, subresource?: string) => ACCESS_PROBES.find((p) => p.resource === resource && p.verb === verb && p.subresource === subresource && p.cluster === undefined)!;

describe('what the specs allow', () => {
  const a: EnclaveAccess = { name: 'a', spec: spec([{ user: 'lead@x', role: 'lead' }, { group: 'checkers', role: 'output-checker' }]) };
  const [lead, checkers, workload] = subjectsOf(a, NOW);

  it('names a member, a group member and the workload ServiceAccount per enclave', () => {
    expect([lead!.user, checkers!.user, workload!.user]).toEqual(['lead@x', 'a-member-of:checkers', 'system:serviceaccount:sde-a:workload']);
    expect(checkers!.groups).toEqual(['checkers', 'system:authenticated']);
  });

  it('gives a role what the API says it means, in its own namespace only', () => {
    expect(expectedAccess(lead!, find('events', 'list'), 'sde-a')).toBe(true);
    expect(expectedAccess(checkers!, find('events', 'list'), 'sde-a')).toBe(false);
    expect(expectedAccess(checkers!, find('pods', 'get', 'log'), 'sde-a')).toBe(true);
    expect(expectedAccess(checkers!, find('workspaces', 'create'), 'sde-a')).toBe(false);
    expect(expectedAccess(lead!, find('pods', 'get', 'log'), 'sde-b')).toBe(false);
    expect(expectedAccess(lead!, find('secrets', 'get'), 'sde-a')).toBe(false);
    expect(expectedAccess(workload!, find('pods', 'get'), 'sde-a')).toBe(false);
    expect(expectedAccess(NON_MEMBER, find('pods', 'get'), 'sde-a')).toBe(false);
    const ownEnclave = ACCESS_PROBES.find((p) => p.resource === 'enclaves' && p.verb === 'patch')!;
    expect(expectedAccess(lead!, ownEnclave, undefined)).toBe(false);
  });

  it('gives nothing once access has ended', () => {
    const [expired] = subjectsOf({ name: 'a', spec: spec([{ user: 'lead@x', role: 'lead' }], '2026-06-01T00:00:00Z') }, NOW);
    expect(expired!.active).toBe(false);
    expect(expectedAccess(expired!, find('pods', 'get'), 'sde-a')).toBe(false);
  });

  it('asks each subject the catalogue at home, in the neighbours and at cluster scope, and the widest questions everywhere', async () => {
    const enclaves = ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name, spec: spec([{ user: `lead@${name}`, role: 'lead' as const }]) }));
    const asked: string[] = [];
    const reviews = await reviewAccess(enclaves, async (subject, attributes) => {
      asked.push(`${subject.user} ${attributes.namespace ?? '-'}`);
      return false;
    }, { neighbours: 1, now: NOW });
    const namespaced = ACCESS_PROBES.filter((p) => p.cluster === undefined).length;
    const cluster = ACCESS_PROBES.length - namespaced;
    expect(asked.filter((q) => q === 'lead@a sde-a')).toHaveLength(namespaced);
    expect(asked.filter((q) => q === 'lead@a sde-b')).toHaveLength(namespaced);
    expect(asked.filter((q) => q === 'lead@a sde-e').length).toBeGreaterThan(0);
    expect(asked.filter((q) => q === 'lead@a -')).toHaveLength(cluster);
    expect(reviews.every((r) => !r.allowed)).toBe(true);
    expect(summariseAccess(reviews).missing.length).toBeGreaterThan(0);
  });
});

describe('member access on a live site, asked of the authorizer', () => {
  const PREFIX = 'rbac';
  const ENCLAVES = 3;
  const EXPIRED = enclaveName(ENCLAVES, PREFIX);
  let site: Awaited<ReturnType<typeof chaosSite>>;
  let operator: Manager;
  let enclaves: EnclaveAccess[];
  let reviews: AccessReview[];

  const liveEnclaves = async (): Promise<EnclaveAccess[]> => (await site.user.list(SdeKinds.Enclave)).items
    .map((e) => enclaveSchema.parse(e))
    .map((e) => ({ name: e.metadata.name, spec: e.spec }));
  const review = async (): Promise<AccessReview[]> => reviewAccess(enclaves, subjectAccessReviewer(site.kubeConfig), { neighbours: ENCLAVES });

  beforeAll(async () => {
    site = await chaosSite(ENCLAVES + 1);
    operator = createOperator({ site: FLEET_SITE, kubeConfig: site.kubeConfig, port: false, logger: createLogger({ level: 'silent' }) });
    await operator.start();
    await createFleet(site.user, site.observer, ENCLAVES, PREFIX, 'own');
    // An enclave whose access ended in June: its members must be able to do nothing.
    await site.user.apply(fleetEnclave(ENCLAVES, { prefix: PREFIX, members: 'own', expiresAt: '2026-06-01T00:00:00Z' }), { fieldManager: 'test', force: true });
    const ready = (name: string) => isReady(site.observer.cache('Enclave').get(name));
    const ended = () => (site.observer.cache('Enclave').get(EXPIRED) as { status?: { conditions?: { type: string; status: string }[] } } | undefined)?.status?.conditions?.some((c) => c.type === 'AccessActive' && c.status === 'False') ?? false;
    const ok = await site.observer.until(() => Array.from({ length: ENCLAVES }, (_, i) => ready(enclaveName(i, PREFIX))).every(Boolean) && ended(), 60_000);
    expect(ok, 'enclaves ready and the expired one reported').toBe(true);
    enclaves = await liveEnclaves();
    reviews = await review();
  }, 120_000);
  afterAll(async () => {
    await operator?.stop();
    await site?.observer.stop();
    await site?.cluster.stop();
  });

  it('allows exactly what the specs name: nothing beyond, nothing missing', () => {
    const summary = summariseAccess(reviews);
    expect(summary.beyondSpecs.map((r) => `${r.subject.label} ${JSON.stringify(r.attributes)}`)).toEqual([]);
    expect(summary.missing.map((r) => `${r.subject.label} ${JSON.stringify(r.attributes)}`)).toEqual([]);
    // The question was put: members were allowed what their roles mean, in their own namespaces.
    const researcher = `researcher ${fleetUser('m.okafor@ucl.ac.uk', 0, { prefix: PREFIX, members: 'own' })} of ${enclaveName(0, PREFIX)}`;
    expect(reviews.filter((r) => r.subject.label === researcher && r.allowed).length).toBe(ACCESS_PROBES.filter((p) => p.cluster === undefined && p.roles.includes('researcher')).length);
    // A data-manager sees the claims and writes none: claims are the operator's (issue 20).
    const claims = reviews.filter((r) => r.subject.role === 'data-manager' && r.attributes.resource === 'persistentvolumeclaims' && r.attributes.namespace === `sde-${r.subject.enclave}`);
    expect(claims.filter((r) => r.allowed).map((r) => r.attributes.verb).sort()).toEqual(expect.arrayContaining(['get', 'list']));
    expect(claims.filter((r) => ['create', 'update', 'patch', 'delete'].includes(r.attributes.verb) && r.allowed)).toEqual([]);
    expect(claims.filter((r) => !r.allowed).length).toBeGreaterThan(0);
    // The expired enclave's members were asked and refused everything.
    const expired = reviews.filter((r) => r.subject.enclave === EXPIRED);
    expect(expired.length).toBeGreaterThan(0);
    expect(expired.filter((r) => r.allowed)).toEqual([]);
  });

  it.skipIf(!hasKubectl)('agrees with kubectl auth can-i --as on a sample of the questions', async () => {
    const namespaced = reviews.filter((r) => r.attributes.namespace !== undefined);
    const sample = [...namespaced.filter((r) => r.allowed).filter((_, i) => i % 17 === 0).slice(0, 12), ...namespaced.filter((r) => !r.allowed).filter((_, i) => i % 97 === 0).slice(0, 12)];
    expect(sample.filter((r) => r.allowed).length).toBeGreaterThan(5);
    expect(sample.filter((r) => !r.allowed).length).toBeGreaterThan(5);
    for (const r of sample) {
      const { subject, attributes: a } = r;
      const resource = a.group === '' ? a.resource : `${a.resource}.${a.group}`;
      const args = ['--kubeconfig', site.cluster.kubeconfigPath, 'auth', 'can-i', a.verb, resource, '-n', a.namespace!, '--as', subject.user, ...subject.groups.filter((g) => g !== 'system:authenticated').flatMap((g) => ['--as-group', g])];
      if (a.subresource !== undefined) args.push('--subresource', a.subresource);
      const answer = await new Promise<string>((resolve) => execFile(KUBECTL, args, { timeout: 30_000 }, (_error, out) => resolve(out.trim())));
      expect(answer, `kubectl ${args.slice(2).join(' ')}`).toBe(r.allowed ? 'yes' : 'no');
    }
  }, 120_000);

  it('finds a leak and a loss planted by hand', async () => {
    await operator.stop();
    const leakNs = `sde-${enclaveName(1, PREFIX)}`;
    const outsider = fleetUser('m.okafor@ucl.ac.uk', 0, { prefix: PREFIX, members: 'own' });
    const rbac = 'rbac.authorization.k8s.io';
    // Enclave 0's researcher made a lead in enclave 1; enclave 2's data managers may read Secrets everywhere.
    await site.user.apply({ apiVersion: `${rbac}/v1`, kind: 'RoleBinding', metadata: { name: 'planted', namespace: leakNs }, roleRef: { apiGroup: rbac, kind: 'Role', name: 'sde-lead' }, subjects: [{ kind: 'User', name: outsider, apiGroup: rbac }] } as KubernetesObject, { fieldManager: 'test', force: true });
    await site.user.apply({ apiVersion: `${rbac}/v1`, kind: 'ClusterRole', metadata: { name: 'planted-secrets' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }] } as KubernetesObject, { fieldManager: 'test', force: true });
    await site.user.apply({ apiVersion: `${rbac}/v1`, kind: 'ClusterRoleBinding', metadata: { name: 'planted-secrets' }, roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: 'planted-secrets' }, subjects: [{ kind: 'Group', name: `${enclaveName(2, PREFIX)}-data-managers`, apiGroup: rbac }] } as KubernetesObject, { fieldManager: 'test', force: true });
    // Enclave 2's lead loses her binding.
    const bindings = await site.user.list(Kinds.RoleBinding, { namespace: `sde-${enclaveName(2, PREFIX)}` });
    const leadBinding = bindings.items.find((b) => (b as { roleRef?: { name: string } }).roleRef?.name === 'sde-lead')!;
    expect(await site.user.delete(leadBinding)).toBe(true);

    const summary = summariseAccess(await review());
    const beyond = new Set(summary.beyondSpecs.map((r) => `${r.subject.role} ${r.attributes.verb} ${r.attributes.resource}${r.attributes.subresource ? `/${r.attributes.subresource}` : ''} ${r.attributes.namespace}`));
    expect(beyond).toContain(`researcher list events ${leakNs}`);
    expect(beyond).toContain(`researcher get pods/log ${leakNs}`);
    expect(beyond).toContain(`data-manager get secrets sde-${enclaveName(0, PREFIX)}`);
    expect(beyond).toContain(`data-manager get secrets sde-${enclaveName(2, PREFIX)}`);
    expect(new Set(summary.beyondSpecs.map((r) => r.subject.label))).toEqual(new Set([`researcher ${outsider} of ${enclaveName(0, PREFIX)}`, `data-manager group ${enclaveName(2, PREFIX)}-data-managers of ${enclaveName(2, PREFIX)}`]));
    expect(new Set(summary.missing.map((r) => r.subject.label))).toEqual(new Set([`lead ${fleetUser('j.patel@ucl.ac.uk', 2, { prefix: PREFIX, members: 'own' })} of ${enclaveName(2, PREFIX)}`]));
  }, 60_000);
});
