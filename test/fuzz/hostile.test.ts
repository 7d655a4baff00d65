// Hostile specs that pass the schema: each is refused with a condition whose reason comes from
// policy/findings.ts, builds nothing, and the enclave's network reachability is unchanged: the
// destinations asked for stay unreachable.
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chaosSite } from '../../bench/lib/chaos.ts';
import { FLEET_SITE, fleetEnclave, isReady } from '../../bench/lib/fleet.ts';
import type { Manifest } from '../../bench/lib/fleet.ts';
import type { KubeObject } from '../../constructs/objects.ts';
import { canConnect, namespacesOf, podAddresses, podsOf, policiesOf } from '../../isolation/index.ts';
import type { ClusterModel, PodModel } from '../../isolation/index.ts';
import { SdeKinds } from '../../operator/kinds.ts';
import { createOperator } from '../../operator/operator.ts';
import { createLogger, Kinds, KubeApiError } from '../../operator/runtime/index.ts';
import type { Manager, ResourceType } from '../../operator/runtime/index.ts';
import { FINDING_REASONS } from '../../policy/findings.ts';
import { exampleDoc } from './mutations.ts';

type Condition = { type: string; status: string; reason: string; message: string };
const HOME = 'hostile-home';
const NS = `sde-${HOME}`;
const HOSTILE_EGRESS = { ip: '10.66.6.6', port: 443 };
const ROGUE_AGGREGATOR = { ip: '10.90.0.99', port: 8002 };

describe('hostile but schema-valid specs', () => {
  let site: Awaited<ReturnType<typeof chaosSite>>;
  let operator: Manager;
  let policiesBefore: string;
  beforeAll(async () => {
    site = await chaosSite(4);
    operator = createOperator({ site: FLEET_SITE, kubeConfig: site.kubeConfig, port: false, logger: createLogger({ level: 'silent' }) });
    await operator.start();
    for (const [name, i] of [[HOME, 0], ['hostile-neighbour', 1]] as const) {
      const e = fleetEnclave(i);
      if (name === 'hostile-neighbour') (e.spec.data as { name: string }[]).push({ name: 'hes-standardised' });
      await site.user.apply({ ...e, metadata: { name } }, { fieldManager: 'hostile', force: true });
    }
    await site.observer.until(() => isReady(site.observer.cache('Enclave').get(HOME)) && isReady(site.observer.cache('Enclave').get('hostile-neighbour')), 20_000);
    policiesBefore = JSON.stringify(await live(Kinds.NetworkPolicy, NS));
  }, 30_000);
  afterAll(async () => {
    await operator?.stop();
    await site?.observer.stop();
    await site?.cluster.stop();
  });

  async function live(type: ResourceType, namespace?: string): Promise<KubernetesObject[]> {
    const page = await site.user.list(type, namespace ? { namespace } : {});
    return page.items.map((o) => ({ ...o, metadata: { name: o.metadata?.name, namespace: o.metadata?.namespace, labels: o.metadata?.labels } , spec: (o as { spec?: unknown }).spec } as KubernetesObject));
  }

  async function verdict(type: ResourceType, name: string, namespace?: string): Promise<Condition> {
    let found: Condition | undefined;
    for (let i = 0; i < 100 && !found; i++) {
      const o = (await site.user.get(type, name, namespace)) as { status?: { conditions?: Condition[] } } | undefined;
      found = o?.status?.conditions?.find((c) => c.type === 'SpecValid' && c.status === 'False');
      if (!found) await new Promise((r) => setTimeout(r, 100));
    }
    expect(found, `${type.kind} ${name} refused with a condition`).toBeDefined();
    expect(FINDING_REASONS as readonly string[]).toContain(found!.reason);
    return found!;
  }

  const workspace = (name: string, spec: Record<string, unknown>): Manifest => ({ apiVersion: 'sde.london/v1alpha1', kind: 'Workspace', metadata: { name, namespace: NS }, spec: { owner: 'm.okafor@ucl.ac.uk', tool: 'jupyterlab', resources: { cpu: '1', memory: '2Gi' }, ...spec } });

  it.each([
    {
      what: 'an Enclave asking for egress the site does not allow',
      reason: 'EgressNotAllowed',
      field: 'spec.network.egress[0].cidr',
      object: () => ({ ...fleetEnclave(7), metadata: { name: 'hostile-egress' }, spec: { ...fleetEnclave(7).spec, network: { packageMirror: true, egress: [{ cidr: `${HOSTILE_EGRESS.ip}/32`, ports: [{ port: HOSTILE_EGRESS.port }], reason: 'exfiltration' }] } } }),
      type: SdeKinds.Enclave,
    },
    {
      what: 'an Enclave asking for more GPUs than the site pool',
      reason: 'GpusAbovePool',
      field: 'spec.resources.gpus',
      object: () => ({ ...fleetEnclave(8), metadata: { name: 'hostile-gpus' }, spec: { ...fleetEnclave(8).spec, resources: { cpu: '8', memory: '32Gi', storage: '4Ti', gpus: 64 } } }),
      type: SdeKinds.Enclave,
    },
    {
      what: 'an Enclave naming a dataset the site does not catalogue',
      reason: 'DatasetNotInCatalogue',
      field: 'spec.data[3].name',
      object: () => ({ ...fleetEnclave(10), metadata: { name: 'hostile-catalogue' }, spec: { ...fleetEnclave(10).spec, data: [...(fleetEnclave(10).spec.data as object[]), { name: 'epr-dump' }] } }),
      type: SdeKinds.Enclave,
    },
    {
      what: 'an Enclave asking to write a curated dataset',
      reason: 'DatasetReadOnly',
      field: 'spec.data[0].readOnly',
      object: () => ({ ...fleetEnclave(11), metadata: { name: 'hostile-write' }, spec: { ...fleetEnclave(11).spec, data: [{ name: 'cardiac-mri-curated', readOnly: false }] } }),
      type: SdeKinds.Enclave,
    },
    {
      what: 'a Workspace mounting a dataset of another enclave',
      reason: 'UnknownDataset',
      field: 'spec.datasets[0]',
      object: () => workspace('hostile-dataset', { datasets: ['hes-standardised'] }),
      type: SdeKinds.Workspace,
    },
    {
      what: 'a Workspace with an image from a registry the site does not allow',
      reason: 'ImageNotAllowed',
      field: 'spec.image',
      object: () => workspace('hostile-image', { image: 'docker.io/evil/miner:latest' }),
      type: SdeKinds.Workspace,
    },
    {
      what: 'a FederatedJob naming an aggregator not in the site config',
      reason: 'UnknownAggregator',
      field: 'spec.aggregator.endpoint',
      object: () => {
        const job = exampleDoc('federatedjob-nvflare.yaml') as unknown as Manifest;
        return { ...job, metadata: { name: 'hostile-aggregator', namespace: NS }, spec: { ...job.spec, aggregator: { endpoint: 'rogue-hub', site: 'rogue', caSecretRef: { name: 'x' } }, participant: { ...(job.spec.participant as object), resources: { cpu: '1', memory: '2Gi', gpus: 0 } } } };
      },
      type: SdeKinds.FederatedJob,
    },
  ])('$what: refused ($reason on $field), nothing built', async ({ reason, field, object, type }) => {
    const o = object() as Manifest;
    await site.user.apply(o, { fieldManager: 'hostile', force: true });
    const c = await verdict(type, o.metadata!.name!, o.metadata?.namespace);
    expect(c.reason).toBe(reason);
    expect(c.message).toContain(field);
    if (type === SdeKinds.Enclave) expect(await site.user.get(Kinds.Namespace, `sde-${o.metadata!.name}`)).toBeUndefined();
    if (type === SdeKinds.Workspace) expect(await site.user.get(Kinds.StatefulSet, o.metadata!.name!, NS)).toBeUndefined();
    if (type === SdeKinds.FederatedJob) expect((await site.user.list(Kinds.Job, { namespace: NS })).items).toEqual([]);
  });

  // Before the catalogue, this enclave validated and its pods mounted the raw export read-only as "curated".
  it('an Enclave describing its own dataset (a raw export it calls curated) keeps only the name, which the catalogue lacks: refused, nothing mounted', async () => {
    const e = fleetEnclave(12);
    e.spec.data = [{ name: 'epr-dump', kind: 'volume', zone: 'curated', source: { nfs: { server: 'datalake.sde.uclh.nhs.uk', path: '/raw/epr-dump' } }, size: '1Ti' }] as unknown as Record<string, unknown>;
    await site.user.apply({ ...e, metadata: { name: 'hostile-describe' } }, { fieldManager: 'hostile', force: true });
    const c = await verdict(SdeKinds.Enclave, 'hostile-describe');
    expect(c.reason).toBe('DatasetNotInCatalogue');
    expect(c.message).toContain('spec.data[0].name: expected a dataset of site uclh\'s catalogue (cardiac-mri-curated, omop, xnat, hes-standardised, scratch); found "epr-dump"');
    const stored = (await site.user.get(SdeKinds.Enclave, 'hostile-describe')) as unknown as { spec: { data: unknown[] } };
    expect(stored.spec.data).toEqual([{ name: 'epr-dump' }]);
    expect(await site.user.get(Kinds.Namespace, 'sde-hostile-describe')).toBeUndefined();
    expect(JSON.stringify((await site.user.list(Kinds.PersistentVolume)).items)).not.toContain('/raw/');
    let warned = false;
    for (let i = 0; i < 50 && !warned; i++) {
      warned = (await site.user.list(Kinds.Event, { namespace: 'default' })).items.some((x) => {
        const event = x as { reason?: string; type?: string; involvedObject?: { name?: string } };
        return event.reason === 'DatasetNotInCatalogue' && event.type === 'Warning' && event.involvedObject?.name === 'hostile-describe';
      });
      if (!warned) await new Promise((r) => setTimeout(r, 100));
    }
    expect(warned, 'a Warning Event DatasetNotInCatalogue for the enclave').toBe(true);
  });

  it('a member role that does not exist is refused by the API server with a 422 naming the field', async () => {
    const e = fleetEnclave(9);
    (e.spec.members as { role: string }[])[0]!.role = 'cluster-admin';
    const error = await site.user.apply({ ...e, metadata: { name: 'hostile-role' } }, { fieldManager: 'hostile', force: true }).then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(KubeApiError);
    expect((error as KubeApiError).statusCode).toBe(422);
    expect((error as Error).message).toContain('spec.members[0].role');
    expect(await site.user.get(Kinds.Namespace, 'sde-hostile-role')).toBeUndefined();
  });

  it('after all of them, the enclave\'s policies are unchanged and nothing asked for is reachable', async () => {
    expect(JSON.stringify(await live(Kinds.NetworkPolicy, NS))).toBe(policiesBefore);
    const objects = [...(await live(Kinds.Namespace)), ...(await live(Kinds.NetworkPolicy)), ...(await live(Kinds.StatefulSet)), ...(await live(Kinds.Job))] as unknown as KubeObject[];
    const ip = podAddresses();
    const stray: PodModel = { namespace: NS, name: 'stray', labels: {}, ip: ip() };
    const pods = [...podsOf(objects, ip), stray];
    const model: ClusterModel = { namespaces: namespacesOf(objects), pods, policies: policiesOf(objects) };
    const mine = pods.filter((p) => p.namespace === NS);
    const neighbours = pods.filter((p) => p.namespace === 'sde-hostile-neighbour');
    expect(mine.length).toBeGreaterThan(0);
    for (const from of mine) {
      expect(canConnect(model, { pod: from }, { ip: HOSTILE_EGRESS.ip }, { port: HOSTILE_EGRESS.port, protocol: 'TCP' })).toBe(false);
      expect(canConnect(model, { pod: from }, { ip: ROGUE_AGGREGATOR.ip }, { port: ROGUE_AGGREGATOR.port, protocol: 'TCP' })).toBe(false);
      expect(canConnect(model, { pod: from }, { ip: '8.8.8.8' }, { port: 443, protocol: 'TCP' })).toBe(false);
      for (const to of neighbours) expect(canConnect(model, { pod: from }, { pod: to }, { port: 8888, protocol: 'TCP' })).toBe(false);
    }
  });
});
