// The site stack under Pulumi's mocks: what each example trust's `pulumi up` would declare, GPU
// placement, least-privilege RBAC, dependency order, and config errors caught before any resource.
// The admission webhooks' certificate: the mocks make no key or certificate (pulumi-mocks.ts gives
// each tls output a placeholder naming its resource), so these tests follow each PEM from the
// resource that makes it to where it is used and check what the stack asks the tls provider for
// (names, validity, key usage, which key signs). They cannot show that the provider makes a valid
// chain, that kube-apiserver accepts it, when `earlyRenewalHours` really replaces a certificate,
// the order in which the engine updates the Secret and the configurations at a renewal, or that
// the key stays encrypted in the state; test/e2e dry-runs the same objects on kube-apiserver 1.23
// with a certificate made by openssl.
import { readdirSync, readFileSync } from 'node:fs';
import * as pulumi from '@pulumi/pulumi';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { siteConfig } from '../../api/siteconfig.ts';
import type { KubeObject } from '../../constructs/objects.ts';
import { caBundleOf, renderInstallWebhooks, WEBHOOK_CA_NAME, WEBHOOK_CERT_DIR } from '../../constructs/install/admission.ts';
import { OPERATOR_LABELS, renderOperatorInstall } from '../../constructs/install/operator.ts';
import { OPERATOR_RULES } from '../../constructs/install/rbac.ts';
import { readStackConfig, siteConfigOf, StackConfigError } from '../../stacks/site/config.ts';
import { declareSite } from '../../stacks/site/site.ts';
import { recordingEngine, stackConfigFile, type RecordingEngine } from './pulumi-mocks.ts';

const STACKS = new URL('../../stacks/site/', import.meta.url);
const uclh = stackConfigFile(new URL('Pulumi.uclh.yaml', STACKS));
const gstt = stackConfigFile(new URL('Pulumi.gstt.yaml', STACKS));

const CONFIG_GROUP = 'kubernetes:yaml/v2:ConfigGroup';
const NODE_PATCH = 'kubernetes:core/v1:NodePatch';

let engine: RecordingEngine;
beforeAll(async () => {
  engine = await recordingEngine();
});
beforeEach(() => engine.clear());

async function declare(raw: Record<string, string>) {
  const config = readStackConfig(raw);
  declareSite(config);
  await engine.settled();
  return config;
}

function objs(name: string): KubeObject[] {
  return engine.byName(name).inputs.objs as KubeObject[];
}

function find(objects: KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found === undefined) throw new Error(`expected a ${kind}${name ? ` named ${name}` : ''}`);
  return found;
}

interface Toleration { key?: string; operator?: string; value?: string; effect?: string }
interface Taint { key: string; value?: string; effect: string }
interface Expression { key: string; operator: string; values?: string[] }

// Scheduling as the kube-scheduler decides it for these fields: every NoSchedule/NoExecute taint
// must be tolerated, and one node selector term must match in full.
function schedulable(pod: Record<string, unknown>, node: { labels: Record<string, string>; taints: Taint[] }): boolean {
  const tolerations = (pod.tolerations ?? []) as Toleration[];
  const tolerated = (t: Taint) =>
    t.effect === 'PreferNoSchedule' ||
    tolerations.some((x) => (x.key === undefined || x.key === t.key) && (x.effect === undefined || x.effect === t.effect) && (x.operator === 'Exists' || x.value === t.value));
  const terms = ((pod.affinity as { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms: { matchExpressions: Expression[] }[] } } } | undefined)
    ?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms) ?? [];
  const matches = (e: Expression) => {
    const v = node.labels[e.key];
    if (e.operator === 'In') return v !== undefined && (e.values ?? []).includes(v);
    if (e.operator === 'Exists') return v !== undefined;
    throw new Error(`operator ${e.operator} not modelled`);
  };
  const selected = terms.length === 0 || terms.some((t) => t.matchExpressions.every(matches));
  return selected && node.taints.every(tolerated);
}

describe.each([
  ['uclh', uclh, { nodes: 2, enclaves: 0, runtimeClass: undefined, product: 'NVIDIA-A100-SXM4-80GB', ingress: { namespace: 'ingress-nginx', pods: 'ingress-nginx', host: 'register.sde.uclh.nhs.uk', className: 'nginx', tls: [{ hosts: ['register.sde.uclh.nhs.uk'], secretName: 'register-sde-uclh-tls' }] } }],
  ['gstt', gstt, { nodes: 4, enclaves: 1, runtimeClass: 'nvidia', product: 'NVIDIA-A100-SXM4-40GB', ingress: { namespace: 'traefik', pods: 'traefik', host: 'data-register.sde.gstt.nhs.uk', className: 'traefik', tls: undefined } }],
] as const)('pulumi up -s %s', (trust, raw, expected) => {
  it('declares the provider for the trust\'s context, the CRDs, GPU support, one patch per DGX node, the operator and its enclaves', async () => {
    await declare(raw);
    const provider = engine.byName('cluster');
    expect(provider.type).toBe('pulumi:providers:kubernetes');
    expect(provider.inputs.context).toBe(`${trust}-sde`);
    const checkedIn = readdirSync(new URL('../../crds/', import.meta.url)).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
    expect(objs('sde-crds').map((o) => o.metadata.name).sort()).toEqual(checkedIn.sort());
    expect(checkedIn).toContain('enclaves.sde.london');
    expect(engine.byName('gpu-support').type).toBe(CONFIG_GROUP);
    expect(engine.registrations.filter((r) => r.type === NODE_PATCH)).toHaveLength(expected.nodes);
    expect(engine.byName('sde-operator').type).toBe(CONFIG_GROUP);
    const enclaves = engine.registrations.find((r) => r.name === 'sde-enclaves');
    expect(enclaves === undefined ? 0 : (enclaves.inputs.objs as unknown[]).length).toBe(expected.enclaves);
    // Every Kubernetes resource uses the stack's provider, never the ambient default one.
    for (const r of engine.registrations.filter((x) => x !== provider && x.type.startsWith('kubernetes:'))) {
      expect(r.provider, r.name).toBe(`${provider.urn}::cluster-id`);
    }
  });

  it('labels and taints each DGX node so the device plugin runs there and on no other node', async () => {
    const config = await declare(raw);
    const site = siteConfigOf(config);
    const patches = engine.registrations.filter((r) => r.type === NODE_PATCH);
    const dgx = patches.map((p) => {
      const { metadata, spec } = p.inputs as { metadata: { name: string; labels: Record<string, string> }; spec: { taints: Taint[] } };
      return { name: metadata.name, labels: metadata.labels, taints: spec.taints };
    });
    expect(dgx.map((n) => n.name)).toEqual(site.gpuPool.nodes);
    for (const node of dgx) {
      expect(node.taints).toEqual([site.gpuPool.taint]);
      expect(node.labels[site.gpuPool.productLabel]).toBe(expected.product);
    }
    const daemonSet = find(objs('gpu-support'), 'DaemonSet', 'nvidia-device-plugin');
    const pod = (daemonSet.spec as { template: { spec: Record<string, unknown> } }).template.spec;
    const cpuNode = { labels: { 'kubernetes.io/hostname': 'cpu-01' }, taints: [] };
    const untaintedGpuNode = { labels: { 'nvidia.com/gpu.present': 'true' }, taints: [] };
    for (const node of dgx) expect(schedulable(pod, node), node.name).toBe(true);
    expect(schedulable(pod, cpuNode)).toBe(false);
    expect(schedulable(pod, untaintedGpuNode)).toBe(true);
    // The toleration is for the pool's taint only: a differently tainted node stays off limits.
    expect(schedulable(pod, { labels: untaintedGpuNode.labels, taints: [{ key: 'maintenance', effect: 'NoSchedule' }] })).toBe(false);
    expect(pod.runtimeClassName).toBe(expected.runtimeClass);
    const runtimeClasses = objs('gpu-support').filter((o) => o.kind === 'RuntimeClass');
    expect(runtimeClasses.map((o) => o.metadata.name)).toEqual(expected.runtimeClass === undefined ? [] : [expected.runtimeClass]);
    expect(((daemonSet.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]?.image)).toBe('nvcr.io/nvidia/k8s-device-plugin:v0.17.0');
  });

  it('installs exactly what the constructs render, with a wildcard-free ClusterRole', async () => {
    const config = await declare(raw);
    const declared = objs('sde-operator');
    expect(declared).toEqual(renderOperatorInstall(siteConfigOf(config), config.operator));
    const clusterRole = find(declared, 'ClusterRole', 'sde-operator');
    expect(clusterRole.rules).toEqual(OPERATOR_RULES.cluster);
    expect(JSON.stringify(clusterRole.rules)).not.toContain('*');
    expect(find(declared, 'Role').metadata.namespace).toBe(config.operator.namespace);
    const stored = parse((find(declared, 'ConfigMap').data as Record<string, string>)['site.yaml'] ?? '') as unknown;
    expect(siteConfig.parse(stored)).toEqual(siteConfigOf(config));
    const args = (find(declared, 'Deployment').spec as { template: { spec: { containers: { args: string[] }[] } } }).template.spec.containers[0]?.args;
    expect(args).toEqual(expect.arrayContaining(['--site', trust, '--leader-elect']));
  });

  it('publishes the data use register through the trust\'s ingress controller, which alone may reach its port', async () => {
    const config = await declare(raw);
    const declared = objs('sde-operator');
    const ns = config.operator.namespace;
    const service = find(declared, 'Service', 'sde-operator-register');
    expect(service.spec).toMatchObject({ type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 'register', protocol: 'TCP' }] });
    const policy = find(declared, 'NetworkPolicy', 'sde-operator-register');
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'sde-operator', 'app.kubernetes.io/component': 'controller' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': expected.ingress.namespace } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': expected.ingress.pods } } }],
          ports: [{ protocol: 'TCP', port: 8081 }],
        },
      ],
    });
    // The metrics port stays the monitoring namespace's alone.
    const fence = find(declared, 'NetworkPolicy', 'sde-operator').spec as { ingress: { from: unknown[]; ports: { port: number }[] }[] };
    expect(fence.ingress.filter((rule) => rule.ports.some((p) => p.port === 8080))).toEqual([{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': config.operator.monitoring.namespace } } }], ports: [{ protocol: 'TCP', port: 8080 }] }]);
    const ingress = find(declared, 'Ingress', 'sde-operator-register');
    expect(ingress.metadata.namespace).toBe(ns);
    expect(ingress.spec).toEqual({
      ingressClassName: expected.ingress.className,
      ...(expected.ingress.tls ? { tls: expected.ingress.tls } : {}),
      rules: [{ host: expected.ingress.host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'sde-operator-register', port: { name: 'http' } } } }] } }],
    });
    const container = (find(declared, 'Deployment').spec as { template: { spec: { containers: { args: string[]; ports: unknown[] }[] } } }).template.spec.containers[0];
    expect(container?.args.join(' ')).toContain(`--namespace ${ns} `);
    expect(container?.args.join(' ')).toContain('--register-port 8081 ');
    expect(container?.ports).toContainEqual({ name: 'register', containerPort: 8081, protocol: 'TCP' });
  });

  it('makes the webhooks\' CA and serving certificate, and puts that CA in the Secret and in every caBundle', async () => {
    const config = await declare(raw);
    const ns = config.operator.namespace;
    const tlsResource = (type: string, name: string) => {
      const found = engine.registrations.find((r) => r.type === `tls:index/${type}` && r.name === name);
      if (found === undefined) throw new Error(`expected tls ${type} ${name}`);
      return found.inputs;
    };
    // A secret input as the engine receives it: keys, and all that is made from them, travel as secrets.
    const secret = (value: unknown) => ({ [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value });
    const caKey = 'FAKE PRIVATE KEY PEM of PrivateKey sde-operator-webhook-ca';
    const servingKey = 'FAKE PRIVATE KEY PEM of PrivateKey sde-operator-webhook';
    const caPem = 'FAKE CERTIFICATE PEM of SelfSignedCert sde-operator-webhook-ca';
    const servingPem = 'FAKE CERTIFICATE PEM of LocallySignedCert sde-operator-webhook';
    expect(tlsResource('privateKey:PrivateKey', 'sde-operator-webhook-ca')).toMatchObject({ algorithm: 'RSA', rsaBits: 2048 });
    expect(tlsResource('privateKey:PrivateKey', 'sde-operator-webhook')).toMatchObject({ algorithm: 'RSA', rsaBits: 2048 });
    expect(tlsResource('selfSignedCert:SelfSignedCert', 'sde-operator-webhook-ca')).toEqual({
      privateKeyPem: secret(caKey),
      isCaCertificate: true,
      subject: { commonName: WEBHOOK_CA_NAME },
      validityPeriodHours: 3650 * 24,
      earlyRenewalHours: 90 * 24,
      allowedUses: ['cert_signing', 'crl_signing'],
    });
    // The API server checks the certificate against exactly this name.
    const dnsName = `sde-operator-webhook.${ns}.svc`;
    expect(tlsResource('certRequest:CertRequest', 'sde-operator-webhook')).toEqual({ privateKeyPem: secret(servingKey), subject: { commonName: dnsName }, dnsNames: [dnsName] });
    expect(tlsResource('locallySignedCert:LocallySignedCert', 'sde-operator-webhook')).toEqual({
      certRequestPem: 'FAKE CERTIFICATE REQUEST PEM of CertRequest sde-operator-webhook',
      caPrivateKeyPem: secret(caKey),
      caCertPem: caPem,
      validityPeriodHours: 730 * 24,
      earlyRenewalHours: 90 * 24,
      allowedUses: ['digital_signature', 'key_encipherment', 'server_auth'],
    });
    const base64 = (text: string) => Buffer.from(text).toString('base64');
    const tlsSecret = engine.byName('sde-operator-webhook-tls');
    expect(tlsSecret.type).toBe('kubernetes:core/v1:Secret');
    expect(tlsSecret.inputs).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'sde-operator-webhook-tls', namespace: ns, labels: OPERATOR_LABELS },
      type: 'kubernetes.io/tls',
      data: secret({ 'ca.crt': base64(caPem), 'tls.crt': base64(servingPem), 'tls.key': base64(servingKey) }),
    });
    const [validating, mutating] = renderInstallWebhooks(config.operator, caBundleOf(caPem), OPERATOR_LABELS);
    const configurations = [engine.byName('sde-operator-validating-webhooks'), engine.byName('sde-operator-mutating-webhooks')];
    expect(configurations.map((c) => c.type)).toEqual(['kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration', 'kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration']);
    expect(configurations.map((c) => c.inputs)).toEqual([validating, mutating]);
    const webhooks = configurations.flatMap((c) => c.inputs.webhooks as { clientConfig: { caBundle: string; service: unknown }; failurePolicy: string }[]);
    expect(webhooks).toHaveLength(5);
    for (const w of webhooks) {
      expect(w.clientConfig).toEqual({ caBundle: base64(caPem), service: expect.objectContaining({ namespace: ns, name: 'sde-operator-webhook', port: 443 }) });
      expect(w.failurePolicy).toBe('Fail');
    }
    // The operator serves that Secret behind that Service, to the API server's addresses only.
    const declared = objs('sde-operator');
    expect(declared.filter((o) => o.kind === 'Secret' || o.kind.endsWith('WebhookConfiguration'))).toEqual([]);
    expect((find(declared, 'Service', 'sde-operator-webhook').spec as { ports: unknown[] }).ports).toEqual([{ name: 'https', port: 443, targetPort: 'webhook', protocol: 'TCP' }]);
    const pod = (find(declared, 'Deployment').spec as { template: { spec: { containers: { args: string[]; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }[]; volumes: { name: string; secret?: { secretName: string } }[] } } }).template.spec;
    expect(pod.containers[0]?.volumeMounts).toContainEqual({ name: 'webhook-certificate', mountPath: WEBHOOK_CERT_DIR, readOnly: true });
    expect(pod.volumes).toContainEqual({ name: 'webhook-certificate', secret: { secretName: 'sde-operator-webhook-tls' } });
    expect(pod.containers[0]?.args.join(' ')).toContain(`--webhook-cert-dir ${WEBHOOK_CERT_DIR} --webhook-port 9443`);
    const fence = find(declared, 'NetworkPolicy', 'sde-operator').spec as { ingress: unknown[] };
    expect(fence.ingress).toContainEqual({ from: config.operator.apiServer.cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: 'TCP', port: 9443 }] });
  });

  it('registers the webhooks only once the operator is up, after its certificate, and the enclaves after the webhooks', async () => {
    await declare(raw);
    const secret = engine.byName('sde-operator-webhook-tls');
    const operator = engine.byName('sde-operator');
    expect(operator.dependencies).toContain(secret.urn);
    const configurations = [engine.byName('sde-operator-validating-webhooks'), engine.byName('sde-operator-mutating-webhooks')];
    for (const c of configurations) expect(c.dependencies, c.name).toContain(operator.urn);
    const enclaves = engine.registrations.find((r) => r.name === 'sde-enclaves');
    if (enclaves !== undefined) expect(enclaves.dependencies).toEqual(expect.arrayContaining(configurations.map((c) => c.urn)));
  });

  it('makes the operator and the enclaves wait for the CRDs', async () => {
    await declare(raw);
    const crds = engine.byName('sde-crds').urn;
    const operator = engine.byName('sde-operator');
    expect(operator.dependencies).toContain(crds);
    const enclaves = engine.registrations.find((r) => r.name === 'sde-enclaves');
    if (enclaves !== undefined) expect(enclaves.dependencies).toEqual(expect.arrayContaining([crds, operator.urn]));
    // The CRDs themselves wait for nothing of ours.
    expect(engine.byName('sde-crds').dependencies).toEqual([]);
  });
});

describe('stack configuration', () => {
  it('keeps the UCLH stack\'s site keys identical to examples/site-uclh.yaml', () => {
    const example = siteConfig.parse(parse(readFileSync(new URL('../../examples/site-uclh.yaml', import.meta.url), 'utf8')));
    expect(siteConfigOf(readStackConfig(uclh))).toEqual(example);
  });

  it.each([
    ['a number where one is expected', { 'sde:gpuPool': JSON.stringify({ totalGpus: 'sixteen' }) }, 'sde:gpuPool.totalGpus: expected a number, found "sixteen"'],
    ['a misspelt key', { 'sde:gpupool': JSON.stringify({ totalGpus: 8 }) }, 'sde:gpupool: unknown key'],
    ['an enclave for another trust', { 'sde:enclaves': JSON.stringify([{ ...(parse(readFileSync(new URL('../../examples/enclave-cardiac-mri.yaml', import.meta.url), 'utf8')) as object) }]) }, 'sde:enclaves.0.spec.site: expected "gstt"'],
    ['two replicas without leader election', { 'sde:operator': JSON.stringify({ leaderElection: { enabled: false } }) }, 'sde:operator.replicas: more than one replica needs leader election'],
    ['a GPU choice that does not exist', { 'sde:gpuSupport': 'gpu-operater' }, 'sde:gpuSupport:'],
    ['a site\'s own webhook certificate without its CA', { 'sde:operator': JSON.stringify({ webhook: { certificate: { generate: false } } }) }, 'sde:operator.webhook.certificate.caBundle: caBundle is the CA of a certificate the site provides'],
    ['the webhooks on the metrics port', { 'sde:operator': JSON.stringify({ webhook: { port: 8080 } }) }, 'sde:operator.webhook.port: the webhooks need a port of their own'],
    ['a package index off the mirror, where the network policy would block it', { 'sde:packageMirrors': JSON.stringify([{ name: 'artifactory', host: 'artifactory.sde.gstt.nhs.uk', cidr: '10.60.1.15/32', ports: [{ port: 443 }], indexes: { pypi: 'https://pypi.org/simple' } }]) }, 'sde:packageMirrors.0.indexes.pypi: must be on the mirror\'s host "artifactory.sde.gstt.nhs.uk", found "pypi.org"'],
    // Hostile: raw data is never mounted, so the site's catalogue cannot offer it.
    ['a raw-zone dataset in the catalogue', { 'sde:datasets': JSON.stringify([{ name: 'epr-dump', kind: 'volume', zone: 'raw', source: { nfs: { server: 'datalake.sde.gstt.nhs.uk', path: '/raw/epr-dump' } }, size: '1Ti' }]) }, 'sde:datasets.0.zone: raw-zone data is never mounted in an enclave'],
    ['a catalogue dataset held by a data service the site lacks', { 'sde:datasets': JSON.stringify([{ name: 'imaging', kind: 'imaging', zone: 'curated', source: { dataService: 'xnat' } }]) }, 'sde:datasets.0.source.dataService: expected one of the site\'s dataServices (omop, cogstack); found "xnat"'],
  ])('rejects %s, naming the key, before declaring anything', async (_what, change, message) => {
    const bad = { ...gstt, ...change };
    expect(() => declareSite(readStackConfig(bad))).toThrow(StackConfigError);
    expect(() => readStackConfig(bad)).toThrow(message);
    await engine.settled();
    expect(engine.registrations).toEqual([]);
  });

  it('declares no certificate when the site provides its own: the operator mounts its Secret and the configurations carry its caBundle', async () => {
    const caBundle = Buffer.from('-----BEGIN CERTIFICATE-----\nGSTT issuing CA\n-----END CERTIFICATE-----\n').toString('base64');
    const config = await declare({ ...gstt, 'sde:operator': JSON.stringify({ ...JSON.parse(gstt['sde:operator'] ?? '{}'), webhook: { certificate: { generate: false, secretName: 'sde-webhook-cert-manager', caBundle } } }) });
    expect(engine.registrations.filter((r) => r.type.startsWith('tls:') || r.type === 'kubernetes:core/v1:Secret')).toEqual([]);
    const declared = objs('sde-operator');
    expect(declared).toEqual(renderOperatorInstall(siteConfigOf(config), config.operator));
    const webhooks = declared.filter((o) => o.kind.endsWith('WebhookConfiguration')).flatMap((o) => o.webhooks as { clientConfig: { caBundle: string } }[]);
    expect(webhooks.map((w) => w.clientConfig.caBundle)).toEqual(Array(5).fill(caBundle));
    expect(JSON.stringify(find(declared, 'Deployment'))).toContain('"secretName":"sde-webhook-cert-manager"');
  });

  it('declares nothing of the webhooks when they are off', async () => {
    await declare({ ...gstt, 'sde:operator': JSON.stringify({ ...JSON.parse(gstt['sde:operator'] ?? '{}'), webhook: { enabled: false } }) });
    expect(engine.registrations.filter((r) => r.type.startsWith('tls:') || r.type.includes('admissionregistration') || r.type === 'kubernetes:core/v1:Secret')).toEqual([]);
    expect(JSON.stringify(objs('sde-operator'))).not.toContain('webhook');
  });

  it('installs the NVIDIA GPU Operator chart, pinned and tolerating the pool taint, when the config chooses it', async () => {
    const config = await declare({ ...gstt, 'sde:gpuSupport': 'gpu-operator' });
    expect(engine.registrations.find((r) => r.name === 'gpu-support')).toBeUndefined();
    const chart = engine.byName('gpu-operator');
    expect(chart.type).toBe('kubernetes:helm.sh/v4:Chart');
    expect(chart.inputs).toMatchObject({
      chart: 'gpu-operator',
      version: 'v24.9.2',
      namespace: 'gpu-operator',
      values: { driver: { enabled: false }, daemonsets: { tolerations: [{ key: 'sde.london/dgx', operator: 'Equal', value: 'a100-40gb', effect: 'NoSchedule' }] } },
    });
    expect(config.gpuSupport).toBe('gpu-operator');
    const namespace = engine.registrations.find((r) => r.type === 'kubernetes:core/v1:Namespace');
    expect(chart.dependencies).toContain(namespace?.urn);
  });
});

describe('pulumi up on a cluster older than 1.28 (sde:kubernetesVersion)', () => {
  const validations = (objects: KubeObject[]): string => JSON.stringify(objects).match(/x-kubernetes-validations|fieldPath/g)?.join(',') ?? '';

  it('declares the CRDs that release accepts: on 1.23 without CEL rules, on 1.26 without fieldPath', async () => {
    await declare({ ...uclh, 'sde:kubernetesVersion': '1.23' });
    expect(readStackConfig({ ...uclh, 'sde:kubernetesVersion': '1.20' }).kubernetesVersion).toBe('1.20');
    const old = objs('sde-crds');
    expect(old.map((o) => o.metadata.name)).toEqual(['enclaves.sde.london', 'federatedjobs.sde.london', 'workspaces.sde.london']);
    expect(validations(old)).toBe('');
    engine.clear();
    await declare({ ...uclh, 'sde:kubernetesVersion': 'v1.26.3' });
    expect(validations(objs('sde-crds'))).toMatch(/^x-kubernetes-validations/);
    expect(validations(objs('sde-crds'))).not.toContain('fieldPath');
  });

  it('declares the checked-in CRDs, rules and all, without it', async () => {
    await declare(uclh);
    expect(validations(objs('sde-crds'))).toContain('fieldPath');
  });

  it('refuses a version it cannot read, naming the key', () => {
    expect(() => readStackConfig({ ...uclh, 'sde:kubernetesVersion': 'latest' })).toThrow('sde:kubernetesVersion: expected a release like 1.23');
  });
});
