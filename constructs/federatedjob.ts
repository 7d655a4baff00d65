// FederatedJob → this site's part of a federated learning run: the participant Job, its egress
// policy (DNS and the aggregator only) and, where this site hosts it, the aggregator.
import * as kplus from 'cdk8s-plus-27';
import type { V1DeploymentSpec, V1EnvVar, V1JobSpec } from '@kubernetes/client-node';
import { enclaveDatasets } from '../api/dataset-catalogue.ts';
import { enclaveNamespace } from '../api/enclave.ts';
import type { Enclave } from '../api/enclave.ts';
import type { FederatedJob } from '../api/federatedjob.ts';
import type { Destination, SiteConfig } from '../api/siteconfig.ts';
import { podDatasets } from './datasets.ts';
import type { RenderOptions } from './objects.ts';
import { placement } from './gpu.ts';
import type { ComputeRequest } from './gpu.ts';
import { APP_NAME, COMPONENT, COMPONENTS, FEDERATED_JOB, enclaveLabels } from './labels.ts';
import { mirrorPodParts } from './mirror.ts';
import { childName } from '../api/names.ts';
import { allowDestinations, dnsPeer, policyPorts } from './network.ts';
import { PlainApiObject, ownerReferences, synthesize } from './objects.ts';
import type { KubeObject } from './objects.ts';
import { enclavePodSpec } from './pod.ts';

/** Options of a federated job render: access, and which site this operator runs at. */
export interface FederatedRenderOptions extends RenderOptions {
  thisSite: string;
}

/** Compute of the aggregator pod: it averages weights, so CPU only and never on a DGX node. */
export const AGGREGATOR_COMPUTE: ComputeRequest = { cpu: '2', memory: '8Gi', gpus: 0 };

const CA_PATH = '/var/run/secrets/sde/federation';

/** Names of the objects rendered for federated job `name`. */
export function federatedJobNames(name: string): { participant: string; participantPolicy: string; aggregator: string; aggregatorPolicy: string } {
  return {
    participant: childName(name, 'participant'),
    participantPolicy: childName(name, 'participant-egress'),
    aggregator: childName(name, 'aggregator'),
    aggregatorPolicy: childName(name, 'aggregator-ingress'),
  };
}

/** The aggregator's host as clients dial it: its host name, else the address of its CIDR. */
export function aggregatorHost(endpoint: Destination): string {
  return endpoint.host ?? endpoint.cidr.split('/')[0] ?? endpoint.cidr;
}

/** The aggregator's `host:port` as clients dial it: the endpoint's host (else its first address) and first port. */
export function aggregatorAddress(endpoint: Destination): string {
  return `${aggregatorHost(endpoint)}:${endpoint.ports[0]?.port ?? ''}`;
}

/** The framework's own environment: site name and aggregator address for NVIDIA FLARE or Flower, plus the run's round count. */
export function frameworkEnv(job: FederatedJob, thisSite: string, endpoint: Destination | undefined): V1EnvVar[] {
  const address = endpoint ? aggregatorAddress(endpoint) : '';
  const common: V1EnvVar[] = [
    { name: 'SDE_SITE', value: thisSite },
    { name: 'SDE_FEDERATED_JOB', value: job.metadata.name },
    { name: 'SDE_AGGREGATOR_ADDRESS', value: address },
    { name: 'SDE_ROUNDS', value: String(job.spec.rounds) },
  ];
  if (job.spec.framework === 'nvflare') {
    const admin = endpoint?.ports[1];
    return [
      ...common,
      { name: 'NVFLARE_SITE_NAME', value: thisSite },
      { name: 'NVFLARE_SERVER_ADDRESS', value: address },
      ...(admin && endpoint ? [{ name: 'NVFLARE_ADMIN_ADDRESS', value: `${aggregatorHost(endpoint)}:${admin.port}` }] : []),
    ];
  }
  return [
    ...common,
    { name: 'FLWR_SUPERLINK_ADDRESS', value: address },
    { name: 'FLWR_NODE_CONFIG', value: `site-name="${thisSite}"` },
  ];
}

/**
 * The desired state of a federated job at this site: nothing unless this site takes part; else a
 * batch Job (suspended while access is inactive) whose pods' only egress is DNS and the
 * aggregator, with volume datasets read-only and pip, conda, R and npm configured for the site's
 * package mirror as in a workspace (used only if the egress policy ever opens the mirror to
 * participants); and, when this site hosts the aggregator, its
 * Deployment and Service, reachable only from this job's participants here and the other
 * participating sites' source addresses (site.peerSites).
 */
export function renderFederatedJob(job: FederatedJob, enclave: Enclave, site: SiteConfig, opts: FederatedRenderOptions): KubeObject[] {
  if (!job.spec.sites.includes(opts.thisSite)) return [];
  const name = job.metadata.name;
  const namespace = job.metadata.namespace ?? enclaveNamespace(enclave.metadata.name);
  const owners = ownerReferences(job);
  const names = federatedJobNames(name);
  const base = { ...enclaveLabels(enclave), [FEDERATED_JOB]: name, [APP_NAME]: job.spec.framework };
  const participantLabels = { ...base, [COMPONENT]: COMPONENTS.participant };
  const aggregatorLabels = { ...base, [COMPONENT]: COMPONENTS.aggregator };
  const participantSelector = { [FEDERATED_JOB]: name, [COMPONENT]: COMPONENTS.participant };
  const aggregatorSelector = { [FEDERATED_JOB]: name, [COMPONENT]: COMPONENTS.aggregator };
  const endpoint = site.aggregators.find((a) => a.name === job.spec.aggregator.endpoint);
  const hostsAggregator = job.spec.aggregator.site === opts.thisSite;
  const env = frameworkEnv(job, opts.thisSite, endpoint);
  const ca = job.spec.aggregator.caSecretRef;
  const caVolumes = ca ? [{ name: 'federation-ca', secret: { secretName: ca.name, defaultMode: 0o440, optional: false } }] : [];
  const caMounts = ca ? [{ name: 'federation-ca', mountPath: CA_PATH, readOnly: true }] : [];
  const p = job.spec.participant;
  const volumes = enclaveDatasets(enclave.spec, site).filter((d) => d.kind === 'volume');
  const volumeDatasets = p.datasets.filter((d) => volumes.some((x) => x.name === d));
  const participantEnv = [...(p.env ?? []).map((e) => ({ name: e.name, value: e.value })), ...env];
  const mirror = mirrorPodParts(enclave, site, participantEnv);

  return synthesize((chart) => {
    const egress = new kplus.NetworkPolicy(chart, 'participant-egress', {
      metadata: { name: names.participantPolicy, namespace, labels: participantLabels, ownerReferences: owners },
      selector: kplus.Pods.select(chart, 'participant-pods', { labels: participantSelector }),
      egress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
    });
    const dns = dnsPeer(chart, 'participant', site);
    egress.addEgressRule(dns.peer, dns.ports);
    if (endpoint) {
      allowDestinations(chart, 'aggregator', egress, [endpoint]);
      if (hostsAggregator) {
        egress.addEgressRule(kplus.Pods.select(chart, 'local-aggregator', { labels: aggregatorSelector }), policyPorts(endpoint.ports));
      }
    }

    const jobSpec: V1JobSpec = {
      suspend: !opts.accessActive,
      backoffLimit: job.spec.backoffLimit,
      ...(job.spec.activeDeadlineSeconds !== undefined ? { activeDeadlineSeconds: job.spec.activeDeadlineSeconds } : {}),
      completions: 1,
      parallelism: 1,
      completionMode: 'NonIndexed',
      template: {
        metadata: { labels: participantLabels },
        spec: enclavePodSpec({
          containerName: 'participant',
          image: p.image,
          command: p.command,
          args: p.args,
          ports: [],
          env: [...participantEnv, ...mirror.env],
          volumes: [...caVolumes, ...mirror.volumes],
          mounts: [...caMounts, ...mirror.mounts],
          datasets: podDatasets(enclave, volumeDatasets, site),
          placement: placement(p.resources, site, enclave.spec.resources.gpuProduct),
          restartPolicy: 'Never',
        }),
      },
    };
    new PlainApiObject(chart, 'participant', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: names.participant, namespace, labels: participantLabels, ownerReferences: owners },
      spec: jobSpec,
    });

    if (!hostsAggregator || endpoint === undefined) return;
    const ingress = new kplus.NetworkPolicy(chart, 'aggregator-ingress', {
      metadata: { name: names.aggregatorPolicy, namespace, labels: aggregatorLabels, ownerReferences: owners },
      selector: kplus.Pods.select(chart, 'aggregator-pods', { labels: aggregatorSelector }),
      ingress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
      egress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
    });
    const aggPorts = policyPorts(endpoint.ports);
    ingress.addIngressRule(kplus.Pods.select(chart, 'local-participants', { labels: participantSelector }), aggPorts);
    const peers = (site.peerSites ?? []).filter((s) => s.name !== opts.thisSite && job.spec.sites.includes(s.name));
    peers.forEach((s, i) => ingress.addIngressRule(kplus.NetworkPolicyIpBlock.ipv4(chart, `peer-${i}`, s.cidr), aggPorts));
    const aggDns = dnsPeer(chart, 'aggregator', site);
    ingress.addEgressRule(aggDns.peer, aggDns.ports);

    const service = new kplus.Service(chart, 'aggregator-service', {
      metadata: { name: names.aggregator, namespace, labels: aggregatorLabels, ownerReferences: owners },
      type: kplus.ServiceType.CLUSTER_IP,
      ports: endpoint.ports.map((x) => ({ name: `port-${x.port}`, port: x.port, targetPort: x.port, protocol: x.protocol === 'UDP' ? kplus.Protocol.UDP : kplus.Protocol.TCP })),
    });
    for (const [k, v] of Object.entries(aggregatorSelector)) service.selectLabel(k, v);

    const deployment: V1DeploymentSpec = {
      replicas: opts.accessActive ? 1 : 0,
      strategy: { type: 'Recreate' },
      selector: { matchLabels: aggregatorSelector },
      template: {
        metadata: { labels: aggregatorLabels },
        spec: enclavePodSpec({
          containerName: 'aggregator',
          image: job.spec.aggregator.image ?? p.image,
          ports: endpoint.ports.map((x) => ({ name: `port-${x.port}`, port: x.port })),
          env,
          volumes: caVolumes,
          mounts: caMounts,
          datasets: { volumes: [], mounts: [], env: [] },
          placement: placement(AGGREGATOR_COMPUTE, site),
          restartPolicy: 'Always',
        }),
      },
    };
    new PlainApiObject(chart, 'aggregator', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: names.aggregator, namespace, labels: aggregatorLabels, ownerReferences: owners },
      spec: deployment,
    });
  });
}
