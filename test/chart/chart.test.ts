// The Helm chart against the constructs it mirrors. No helm binary exists here, so the templates
// are rendered by test/chart/gotemplate.ts, which implements exactly the template features the
// chart uses and rejects everything else. What this covers: the objects and fields `helm
// template` would produce for these values (given Helm's documented semantics for those
// features), the values schema as Helm would apply it (JSON Schema via ajv, on the merged
// values), values paths, CRD copies. What it does not cover: Helm's own parser and sprig
// functions byte for byte, `helm lint`, install hooks/ordering, or a real API server's admission.
//
// The webhooks' certificate: Helm's genCA and genSignedCert make a real RSA CA and certificate
// at every render; this renderer's make fake, deterministic PEM placeholders that record what
// they were asked. So these tests check the structure: the Secret is kubernetes.io/tls with
// ca.crt, tls.crt and tls.key; every caBundle is the base64 CA of the same render; the serving
// certificate was signed by that CA, for exactly `sde-operator-webhook.<namespace>.svc`, with the
// validity the constructs name; the Deployment mounts that Secret where --webhook-cert-dir points.
// They cannot show that sprig makes a valid certificate, that the key matches it, that the API
// server accepts it for that name, or what a `helm upgrade` does to running replicas: the first
// three rest on sprig's documented behaviour, and test/e2e dry-runs the objects, with a real
// certificate, on kube-apiserver 1.23.
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { siteConfig } from '../../api/siteconfig.ts';
import type { KubeObject } from '../../constructs/objects.ts';
import { caBundleOf, renderInstallWebhooks, renderWebhookTlsSecret, WEBHOOK_CA_NAME, WEBHOOK_CERT_DIR, WEBHOOK_CERTIFICATE_DAYS, webhookDnsName, type WebhookCertificate } from '../../constructs/install/admission.ts';
import { OPERATOR_LABELS, renderOperatorInstall } from '../../constructs/install/operator.ts';
import { parseInstallOptions, type OperatorInstallInput } from '../../constructs/install/options.ts';
import { OPERATOR_RULES } from '../../constructs/install/rbac.ts';
import { readStackConfig } from '../../stacks/site/config.ts';
import { stackConfigFile } from '../stacks/pulumi-mocks.ts';
import { mergeValues, parseFakeCertificate, renderTemplate } from './gotemplate.ts';

const ROOT = new URL('../../', import.meta.url);
const CHART = new URL('charts/sde-operator/', ROOT);
const read = (path: string, base = CHART) => readFileSync(new URL(path, base), 'utf8');
const defaults = parse(read('values.yaml')) as Record<string, unknown>;
const schema = JSON.parse(read('values.schema.json')) as object;
const chartYaml = parse(read('Chart.yaml')) as { name: string; version: string; appVersion: string };
const templateFiles = readdirSync(new URL('templates/', CHART)).filter((f) => f.endsWith('.yaml')).sort();

type Values = Record<string, unknown> & { siteConfig: Record<string, unknown> };

function valuesFor(file?: string): Values {
  return (file === undefined ? defaults : mergeValues(defaults, parse(read(file)))) as Values;
}

function context(values: Values, namespace: string) {
  return {
    Values: values,
    Release: { Name: 'sde-operator', Namespace: namespace, Service: 'Helm' },
    Chart: { Name: chartYaml.name, Version: chartYaml.version, AppVersion: chartYaml.appVersion },
  };
}

/** `helm template` for this chart: every template rendered, split into documents, empty ones dropped. */
function renderChart(values: Values, namespace: string): KubeObject[] {
  return templateFiles.flatMap((file) =>
    parseAllDocuments(renderTemplate(read(`templates/${file}`), context(values, namespace), file))
      .map((doc) => {
        if (doc.errors.length > 0) throw new Error(`templates/${file} renders invalid YAML: ${doc.errors[0]?.message}`);
        return doc.toJS() as KubeObject | null;
      })
      .filter((o): o is KubeObject => o !== null),
  );
}

function installOptions(values: Values, namespace: string): OperatorInstallInput {
  const { siteConfig: _site, ...options } = values;
  return { ...options, namespace } as OperatorInstallInput;
}

const decode = (text: string | undefined): string => Buffer.from(text ?? '', 'base64').toString('utf8');

/** The certificate the chart made in its render, read back from its webhook Secret. */
function certificateOf(chart: KubeObject[], secretName: string): WebhookCertificate {
  const data = (chart.find((o) => o.kind === 'Secret' && o.metadata.name === secretName)?.data ?? {}) as Record<string, string>;
  return { caPem: decode(data['ca.crt']), certPem: decode(data['tls.crt']), keyPem: decode(data['tls.key']) };
}

/**
 * What the constructs install for these values, as the chart renders it: with a certificate made
 * at install time, its Secret and the configurations trusting it hold the chart's own material.
 */
function constructsFor(values: Values, namespace: string, chart: KubeObject[]): KubeObject[] {
  const options = parseInstallOptions(installOptions(values, namespace));
  const objects = renderOperatorInstall(siteConfig.parse(values.siteConfig), options).filter((o) => o.kind !== 'Namespace');
  const { enabled, certificate } = options.webhook;
  if (!enabled || !certificate.generate) return objects;
  const made = certificateOf(chart, certificate.secretName);
  return [...objects, renderWebhookTlsSecret(options, made, OPERATOR_LABELS), ...renderInstallWebhooks(options, caBundleOf(made.caPem), OPERATOR_LABELS)];
}

interface Webhook { name: string; clientConfig: { caBundle?: string; service?: { namespace: string; name: string; port: number; path: string } } }
const webhooksOf = (chart: KubeObject[]): Webhook[] => chart.filter((o) => o.kind.endsWith('WebhookConfiguration')).flatMap((o) => o.webhooks as Webhook[]);

// What the operator will read from the ConfigMap matters, not YAML spelling (Go sorts keys).
function comparable(objects: KubeObject[]): KubeObject[] {
  return objects
    .map((o) => {
      if (o.kind !== 'ConfigMap') return o;
      const data = o.data as Record<string, string>;
      return { ...o, data: { 'site.yaml': siteConfig.parse(parse(data['site.yaml'] ?? '')) } };
    })
    .sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
}

const cases = [
  ['the default values', undefined],
  ['ci/uclh-values.yaml (examples/site-uclh.yaml)', 'ci/uclh-values.yaml'],
  ['ci/gstt-values.yaml', 'ci/gstt-values.yaml'],
] as const;

describe.each(cases)('helm template with %s', (_name, file) => {
  const values = valuesFor(file);

  it.each(['sde-system', 'research-platform'])('renders the same objects and fields as renderOperatorInstall, in namespace %s', (namespace) => {
    const chart = renderChart(values, namespace);
    expect(comparable(chart)).toEqual(comparable(constructsFor(values, namespace, chart)));
    const clusterScoped = ['ClusterRole', 'ClusterRoleBinding', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'];
    for (const o of chart.filter((x) => !clusterScoped.includes(x.kind))) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(namespace);
  });

  it('passes values.schema.json, as helm install checks it', () => {
    const validate = new Ajv({ allErrors: true }).compile(schema);
    expect(validate(values), JSON.stringify(validate.errors)).toBe(true);
  });

  it('renders NOTES.txt naming the site and what to do next', () => {
    const notes = renderTemplate(read('templates/NOTES.txt'), context(values, 'sde-system'), 'NOTES.txt');
    expect(notes).toContain(`for site "${values.siteConfig.site as string}"`);
    expect(notes).toContain('kubectl -n sde-system rollout status deployment/sde-operator');
    expect(notes).toContain('refuses the write when no\nreplica answers (they fail closed)');
    expect(notes).toContain('kubectl -n sde-system get endpoints sde-operator-webhook');
  });
});

describe('chart values', () => {
  it('default to what the install constructs default to', () => {
    const { siteConfig: _site, ...options } = defaults;
    expect(parseInstallOptions({ ...options, namespace: 'sde-system' } as OperatorInstallInput)).toEqual(parseInstallOptions({}));
  });

  it.each([
    ['uclh', 'ci/uclh-values.yaml'],
    ['gstt', 'ci/gstt-values.yaml'],
  ])('for %s match the Pulumi stack, so helm and pulumi install the same operator', (trust, file) => {
    const values = valuesFor(file);
    const stack = readStackConfig(stackConfigFile(new URL(`stacks/site/Pulumi.${trust}.yaml`, ROOT)));
    expect(parseInstallOptions(installOptions(values, 'sde-system'))).toEqual(stack.operator);
    const { apiVersion: _a, kind: _k, ...site } = siteConfig.parse(values.siteConfig);
    expect(stack).toMatchObject(site);
  });

  it('for uclh carry examples/site-uclh.yaml unchanged', () => {
    expect(valuesFor('ci/uclh-values.yaml').siteConfig).toEqual(parse(read('examples/site-uclh.yaml', ROOT)));
  });

  it('use only .Values paths that exist in values.yaml and in values.schema.json', () => {
    const paths = new Set<string>();
    for (const file of [...templateFiles, 'NOTES.txt']) {
      for (const m of read(`templates/${file}`).matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) paths.add((m[1] ?? '').slice(1));
    }
    expect(paths.size).toBeGreaterThan(10);
    for (const path of paths) {
      let value: unknown = defaults;
      let node = schema as { properties?: Record<string, unknown> };
      for (const key of path.split('.')) {
        expect(value, `values.yaml has ${path}`).toHaveProperty([key]);
        value = (value as Record<string, unknown>)[key];
        expect(node.properties, `values.schema.json has ${path}`).toHaveProperty([key]);
        node = node.properties?.[key] as typeof node;
      }
    }
  });

  it.each([
    ['replicas as text', { replicas: 'two' }, '/replicas'],
    ['two replicas without leader election', { leaderElection: { enabled: false } }, '/replicas'],
    ['an unknown pull policy', { image: { pullPolicy: 'Sometimes' } }, '/image/pullPolicy'],
    ['a misspelt top-level key', { replica: 3 }, 'replica'],
    ['a site name that is not a DNS label', { siteConfig: { site: 'UCLH Trust' } }, '/siteConfig/site'],
    ['a CIDR that is not one', { apiServer: { cidrs: ['10.0.0.1'] } }, '/apiServer/cidrs/0'],
    ['a numeric image tag (unquoted 0.2)', { image: { tag: 0.2 } }, '/image/tag'],
    ['no malloc arena', { heap: { mallocArenas: 0 } }, '/heap/mallocArenas'],
    ['a register host that is a URL', { register: { ingress: { host: 'https://register.sde.uclh.nhs.uk/' } } }, '/register/ingress/host'],
    ['a register port below 1024', { register: { port: 80 } }, '/register/port'],
    ['a misspelt register key', { register: { ingresController: {} } }, 'ingresController'],
    ['a failure policy, which is not a value', { webhook: { failurePolicy: 'Ignore' } }, 'failurePolicy'],
    ['a site\'s own certificate without its CA', { webhook: { certificate: { generate: false } } }, '/webhook/certificate/caBundle'],
    ['a caBundle beside a generated certificate', { webhook: { certificate: { caBundle: 'LS0tLS1CRUdJTg==' } } }, '/webhook/certificate/caBundle'],
    ['a caBundle that is not base64', { webhook: { certificate: { generate: false, caBundle: '-----BEGIN CERTIFICATE-----' } } }, '/webhook/certificate/caBundle'],
    ['a trusted group that reads as a flag', { webhook: { trustedGroups: ['--leader-elect'] } }, '/webhook/trustedGroups/0'],
  ])('reject %s', (_what, override, where) => {
    const validate = new Ajv({ allErrors: true }).compile(schema);
    expect(validate(mergeValues(defaults, override))).toBe(false);
    expect(JSON.stringify(validate.errors)).toContain(where);
  });
});

describe('admission webhooks', () => {
  it.each(['sde-system', 'research-platform'])('make one CA and certificate per render, in namespace %s: the Secret holds them, every caBundle is that CA, and the operator serves that certificate', (namespace) => {
    const chart = renderChart(valuesFor(), namespace);
    const secret = chart.find((o) => o.kind === 'Secret');
    expect(secret?.metadata.name).toBe('sde-operator-webhook-tls');
    expect(secret?.type).toBe('kubernetes.io/tls');
    const data = secret?.data as Record<string, string>;
    expect(Object.keys(data).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    const ca = parseFakeCertificate(decode(data['ca.crt']));
    const serving = parseFakeCertificate(decode(data['tls.crt']));
    expect(ca).toMatchObject({ cn: WEBHOOK_CA_NAME, days: WEBHOOK_CERTIFICATE_DAYS.ca, issuer: ca.id });
    expect(serving).toEqual({ id: serving.id, cn: webhookDnsName(namespace), dns: [`sde-operator-webhook.${namespace}.svc`], ips: [], days: WEBHOOK_CERTIFICATE_DAYS.serving, issuer: ca.id });
    expect(decode(data['tls.key'])).toContain(`key of ${serving.id}`);
    // Five webhooks, each calling the Service at 443 and trusting exactly the CA this render made.
    const webhooks = webhooksOf(chart);
    expect(webhooks.map((w) => w.name).sort()).toEqual(['enclaves.mutate.sde.london', 'enclaves.validate.sde.london', 'federatedjobs.mutate.sde.london', 'federatedjobs.validate.sde.london', 'workspaces.validate.sde.london']);
    for (const w of webhooks) {
      expect(w.clientConfig.caBundle, w.name).toBe(data['ca.crt']);
      expect(w.clientConfig.service, w.name).toMatchObject({ namespace, name: 'sde-operator-webhook', port: 443 });
    }
    const service = chart.find((o) => o.kind === 'Service' && o.metadata.name === 'sde-operator-webhook')?.spec as { ports: unknown[] };
    expect(service.ports).toEqual([{ name: 'https', port: 443, targetPort: 'webhook', protocol: 'TCP' }]);
    const pod = (chart.find((o) => o.kind === 'Deployment')?.spec as { template: { spec: { containers: { args: string[]; ports: unknown[]; volumeMounts: { name: string; mountPath: string }[] }[]; volumes: { name: string; secret?: { secretName: string } }[] } } }).template.spec;
    const container = pod.containers[0];
    expect(container?.ports).toContainEqual({ name: 'webhook', containerPort: 9443, protocol: 'TCP' });
    const mount = container?.volumeMounts.find((m) => m.mountPath === WEBHOOK_CERT_DIR);
    expect(pod.volumes.find((v) => v.name === mount?.name)?.secret?.secretName).toBe('sde-operator-webhook-tls');
    expect(container?.args.join(' ')).toContain(`--webhook-cert-dir ${WEBHOOK_CERT_DIR} --webhook-port 9443`);
  });

  it('let the API server, and only its addresses, reach the webhook port', () => {
    const values = mergeValues(defaults, { apiServer: { cidrs: ['10.0.0.10/32', '10.0.0.11/32'] } }) as Values;
    const chart = renderChart(values, 'sde-system');
    expect(comparable(chart)).toEqual(comparable(constructsFor(values, 'sde-system', chart)));
    const policy = chart.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'sde-operator')?.spec as { ingress: unknown[] };
    expect(policy.ingress).toContainEqual({ from: [{ ipBlock: { cidr: '10.0.0.10/32' } }, { ipBlock: { cidr: '10.0.0.11/32' } }], ports: [{ protocol: 'TCP', port: 9443 }] });
  });

  it('pass each trusted group as its own flag, as the constructs do', () => {
    const values = mergeValues(defaults, { webhook: { port: 10443, trustedGroups: ['oidc:sde-platform-engineers', 'sde admins'] } }) as Values;
    const chart = renderChart(values, 'sde-system');
    expect(comparable(chart)).toEqual(comparable(constructsFor(values, 'sde-system', chart)));
    const args = (chart.find((o) => o.kind === 'Deployment')?.spec as { template: { spec: { containers: { args: string[] }[] } } }).template.spec.containers[0]?.args;
    expect(args?.slice(-8)).toEqual(['--webhook-cert-dir', WEBHOOK_CERT_DIR, '--webhook-port', '10443', '--trusted-group', 'oidc:sde-platform-engineers', '--trusted-group', 'sde admins']);
  });

  it('use a site\'s own certificate (e.g. cert-manager\'s) when asked: no Secret made, its CA in every caBundle', () => {
    const caBundle = Buffer.from('-----BEGIN CERTIFICATE-----\nthe trust\'s CA\n-----END CERTIFICATE-----\n').toString('base64');
    const values = mergeValues(defaults, { webhook: { certificate: { generate: false, secretName: 'sde-webhook-cert-manager', caBundle } } }) as Values;
    const chart = renderChart(values, 'sde-system');
    expect(comparable(chart)).toEqual(comparable(constructsFor(values, 'sde-system', chart)));
    expect(chart.map((o) => o.kind)).not.toContain('Secret');
    for (const w of webhooksOf(chart)) expect(w.clientConfig.caBundle, w.name).toBe(caBundle);
    expect(JSON.stringify(chart.find((o) => o.kind === 'Deployment'))).toContain('"secretName":"sde-webhook-cert-manager"');
  });

  it('install nothing of the webhooks when disabled: no Service, Secret, configuration, port, flags or policy rule', () => {
    const values = mergeValues(defaults, { webhook: { enabled: false } }) as Values;
    const chart = renderChart(values, 'sde-system');
    expect(comparable(chart)).toEqual(comparable(constructsFor(values, 'sde-system', chart)));
    expect(JSON.stringify(chart)).not.toMatch(/webhook|Secret/i);
  });
});

describe('chart packaging', () => {
  it('ships crds/ identical to the generated CRDs in crds/', () => {
    const generated = readdirSync(new URL('crds/', ROOT)).filter((f) => f.endsWith('.yaml')).sort();
    expect(readdirSync(new URL('crds/', CHART)).sort()).toEqual(generated);
    for (const f of generated) expect(read(`crds/${f}`), `${f} differs: cp crds/*.yaml charts/sde-operator/crds/`).toBe(read(`crds/${f}`, ROOT));
  });

  it('installs the image of its own appVersion, the project version', () => {
    const pkg = JSON.parse(read('package.json', ROOT)) as { version: string };
    expect(chartYaml.appVersion).toBe(pkg.version);
    expect((defaults.image as { tag: string }).tag).toBe(chartYaml.appVersion);
  });

  it('writes the ClusterRole rule for rule from OPERATOR_RULES', () => {
    const chart = renderChart(valuesFor(), 'sde-system');
    expect(chart.find((o) => o.kind === 'ClusterRole')?.rules).toEqual(OPERATOR_RULES.cluster);
    expect(chart.find((o) => o.kind === 'Role')?.rules).toEqual(OPERATOR_RULES.leaseNamespace);
  });

  it('passes heap values to the operator\'s environment as the constructs do', () => {
    const values = mergeValues(defaults, { heap: { maxOldSpaceMB: 900, maxSemiSpaceMB: 8, mallocArenas: 4 } }) as Values;
    const env = (objects: KubeObject[]) => (objects.find((o) => o.kind === 'Deployment')?.spec as { template: { spec: { containers: { env: unknown[] }[] } } }).template.spec.containers[0]?.env;
    const chart = env(renderChart(values, 'sde-system'));
    expect(chart).toEqual(env(renderOperatorInstall(siteConfig.parse(values.siteConfig), installOptions(values, 'sde-system'))));
    expect(chart).toContainEqual({ name: 'NODE_OPTIONS', value: '--max-old-space-size=900 --max-semi-space-size=8' });
    expect(chart).toContainEqual({ name: 'MALLOC_ARENA_MAX', value: '4' });
  });

  it('adds the register\'s Ingress only for a host, and admits the ingress controller\'s whole namespace unless podLabels narrow it', () => {
    expect(renderChart(valuesFor(), 'sde-system').map((o) => o.kind)).not.toContain('Ingress');
    const values = mergeValues(defaults, { register: { ingressController: { namespace: 'ingress' }, ingress: { host: 'register.example.nhs.uk' } } }) as Values;
    const chart = renderChart(values, 'sde-system');
    expect(comparable(chart)).toEqual(comparable(constructsFor(values, 'sde-system', chart)));
    expect(chart.find((o) => o.kind === 'Ingress')?.spec).toEqual({ rules: [{ host: 'register.example.nhs.uk', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'sde-operator-register', port: { name: 'http' } } } }] } }] });
    const policy = chart.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'sde-operator-register')?.spec as { ingress: { from: unknown[] }[] };
    expect(policy.ingress[0]?.from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress' } }, podSelector: { matchLabels: {} } }]);
  });

  it('adds the ServiceMonitor only when asked, and drops leader election flags when disabled', () => {
    const kinds = (v: Values) => renderChart(v, 'sde-system').map((o) => o.kind);
    expect(kinds(valuesFor())).not.toContain('ServiceMonitor');
    expect(kinds(mergeValues(defaults, { serviceMonitor: { enabled: true } }) as Values)).toContain('ServiceMonitor');
    const single = renderChart(mergeValues(defaults, { replicas: 1, leaderElection: { enabled: false } }) as Values, 'sde-system');
    const args = JSON.stringify(single.find((o) => o.kind === 'Deployment'));
    expect(args).not.toContain('--leader-elect');
    expect(args).toContain('--port');
  });
});
