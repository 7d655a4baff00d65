// charts/sde-operator is generated from constructs/install (chart/, `npm run gen:chart`), and no
// helm binary runs here. What these tests check without helm:
// - the checked-in chart is what the generator writes now: templates/ (NOTES.txt aside),
//   values.yaml and values.schema.json. A change to the constructs or the install options that
//   is not regenerated fails here.
// - the generator's template trees, evaluated as Helm's template language is documented
//   (instantiate.ts), give renderOperatorInstall's objects field for field, for the default
//   values, both CI values files and the value combinations below, in two namespaces; with a
//   certificate made at install time, the Secret and configurations the stack would make for it.
// - the template text holds those trees: every action is one of the few forms the generator
//   writes (`{{ .Values.x }}`, `| quote`, `printf "%v"`, `toYaml | nindent`, `if`, `range`,
//   `end`, the certificate's variables), blocks balance, and read with every block taken once and
//   each action as a marker, each file is YAML of exactly its tree, marker for marker.
// - values.yaml and the CI values files (merged as Helm merges them) pass values.schema.json
//   (ajv, draft 7); a table of wrong values is refused by zod and by the schema, naming the same
//   field; every pattern in the schema is one Go's regexp (RE2) accepts.
// - NOTES.txt, written by hand: its .Values paths exist in values.yaml and the schema, its blocks
//   balance, and every object it names is one the chart installs.
// Not checked without helm: that Helm parses and runs the text as the trees say (the forms are
// few and standard, but only `helm template` proves it), sprig's genCA and genSignedCert (the
// tests give their own PEM as what they return; the preamble's text is checked), `helm lint`,
// Helm's own schema validator (ajv stands in), and what a `helm upgrade` does to running
// replicas. Two option rules JSON Schema cannot say (the register's and the webhooks' ports
// differ from the metrics port) are zod's alone: helm install does not refuse them. test/e2e
// dry-runs the installation on kube-apiserver 1.23. Where Helm is installed, run
// `helm lint charts/sde-operator -f charts/sde-operator/ci/uclh-values.yaml` and `helm template`.
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { siteConfig } from '../../api/siteconfig.ts';
import type { KubeObject } from '../../constructs/objects.ts';
import { caBundleOf, renderInstallWebhooks, renderWebhookTlsSecret, WEBHOOK_CA_NAME, WEBHOOK_CERTIFICATE_DAYS, webhookDnsName, type WebhookCertificate } from '../../constructs/install/admission.ts';
import { chartFiles } from '../../constructs/install/chart/files.ts';
import { expression, valueAction, type Scope } from '../../constructs/install/chart/text.ts';
import { chartTemplates, type ChartTemplate, type Guard, type TemplateNode } from '../../constructs/install/chart/tree.ts';
import { OPERATOR_LABELS, renderOperatorInstall } from '../../constructs/install/operator.ts';
import { operatorInstallOptions, parseInstallOptions, type OperatorInstallInput } from '../../constructs/install/options.ts';
import { readStackConfig } from '../../stacks/site/config.ts';
import { stackConfigFile } from '../stacks/pulumi-mocks.ts';
import { instantiate, instantiateValue, type Release } from './instantiate.ts';

const ROOT = new URL('../../', import.meta.url);
const CHART = new URL('charts/sde-operator/', ROOT);
const read = (path: string, base = CHART) => readFileSync(new URL(path, base), 'utf8');
const generated = chartFiles();
const templates = chartTemplates();
const defaults = parse(read('values.yaml')) as Record<string, unknown>;
const schema = JSON.parse(read('values.schema.json')) as object;
const chartYaml = parse(read('Chart.yaml')) as { name: string; version: string; appVersion: string };

type Values = Record<string, unknown> & { siteConfig: Record<string, unknown> };
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Helm's merge of a values file over the chart's: maps merge key by key, anything else replaces, null deletes. */
function merge(base: unknown, over: unknown): unknown {
  if (!isMap(base) || !isMap(over)) return structuredClone(over);
  const out: Record<string, unknown> = structuredClone(base);
  for (const [key, value] of Object.entries(over)) {
    if (value === null) delete out[key];
    else out[key] = merge(out[key], value);
  }
  return out;
}

const valuesWith = (over: unknown): Values => merge(defaults, over) as Values;
const valuesFor = (file?: string): Values => valuesWith(file === undefined ? {} : parse(read(file)));

function installOptions(values: Values, namespace: string): OperatorInstallInput {
  const { siteConfig: _site, ...options } = values;
  return { ...options, namespace } as OperatorInstallInput;
}

// Stand-ins for what genCA and genSignedCert return, per release.
function certificateFor(namespace: string): WebhookCertificate {
  return { caPem: `CA ${WEBHOOK_CA_NAME}\n`, certPem: `certificate for ${webhookDnsName(namespace)}\n`, keyPem: `key for ${webhookDnsName(namespace)}\n` };
}

/** The release as the chart's certificate preamble leaves it: $caBundle is the made CA, or the site's. */
function release(values: Values, namespace: string): Release {
  const made = certificateFor(namespace);
  const certificate = (values.webhook as { certificate: { generate: boolean; caBundle: string } }).certificate;
  const caBundle = certificate.generate ? caBundleOf(made.caPem) : certificate.caBundle;
  return { values, namespace, variables: { caBundle, 'ca.Cert': made.caPem, 'cert.Cert': made.certPem, 'cert.Key': made.keyPem } };
}

/** What the constructs install for these values, and with a certificate made at install time, its Secret and the configurations trusting it. */
function constructsFor(values: Values, namespace: string): KubeObject[] {
  const options = parseInstallOptions(installOptions(values, namespace));
  const objects = renderOperatorInstall(siteConfig.parse(values.siteConfig), options).filter((o) => o.kind !== 'Namespace');
  const { enabled, certificate } = options.webhook;
  if (!enabled || !certificate.generate) return objects;
  const made = certificateFor(namespace);
  return [...objects, renderWebhookTlsSecret(options, made, OPERATOR_LABELS), ...renderInstallWebhooks(options, caBundleOf(made.caPem), OPERATOR_LABELS)];
}

// What the operator reads from the ConfigMap matters, not its YAML spelling; order is the installer's.
function comparable(objects: KubeObject[]): KubeObject[] {
  return objects
    .map((o) => (o.kind === 'ConfigMap' ? { ...o, data: { 'site.yaml': siteConfig.parse(parse((o.data as Record<string, string>)['site.yaml'] ?? '')) } } : o))
    .sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
}

const helmTemplate = (values: Values, namespace: string) => instantiate(templates, release(values, namespace));

describe('the generated chart', () => {
  it('is what `npm run gen:chart` writes now', () => {
    for (const [path, text] of generated) expect(read(path), `${path} is stale: npm run gen:chart`).toBe(text);
    const files = readdirSync(new URL('templates/', CHART)).map((f) => `templates/${f}`);
    expect(files.sort(), 'templates/ holds only generated files and NOTES.txt: npm run gen:chart').toEqual([...[...generated.keys()].filter((p) => p.startsWith('templates/')), 'templates/NOTES.txt'].sort());
  });

  it('ships crds/ identical to the generated CRDs in crds/', () => {
    const crds = readdirSync(new URL('crds/', ROOT)).filter((f) => f.endsWith('.yaml')).sort();
    expect(readdirSync(new URL('crds/', CHART)).sort()).toEqual(crds);
    for (const f of crds) expect(read(`crds/${f}`), `${f} differs: npm run gen:crds`).toBe(read(`crds/${f}`, ROOT));
  });

  it('installs the image of its own appVersion, the project version', () => {
    const pkg = JSON.parse(read('package.json', ROOT)) as { version: string };
    expect(chartYaml.appVersion).toBe(pkg.version);
    expect((defaults.image as { tag: string }).tag).toBe(chartYaml.appVersion);
  });
});

const cases = [
  ['the default values', undefined],
  ['ci/uclh-values.yaml (examples/site-uclh.yaml)', 'ci/uclh-values.yaml'],
  ['ci/gstt-values.yaml', 'ci/gstt-values.yaml'],
] as const;

describe.each(cases)('helm template with %s', (_name, file) => {
  const values = valuesFor(file);

  it.each(['sde-system', 'research-platform'])('renders the objects and fields of renderOperatorInstall, in namespace %s', (namespace) => {
    const chart = helmTemplate(values, namespace);
    expect(comparable(chart)).toEqual(comparable(constructsFor(values, namespace)));
    const clusterScoped = ['ClusterRole', 'ClusterRoleBinding', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'];
    for (const o of chart.filter((x) => !clusterScoped.includes(x.kind))) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(namespace);
  });

  it('passes values.schema.json, as helm install checks it', () => {
    const validate = new Ajv({ allErrors: true }).compile(schema);
    expect(validate(values), JSON.stringify(validate.errors)).toBe(true);
  });
});

describe.each([
  ['two API server addresses', { apiServer: { cidrs: ['10.0.0.10/32', '10.0.0.11/32'] } }],
  ['trusted groups and another webhook port', { webhook: { port: 10443, trustedGroups: ['oidc:sde-platform-engineers', 'sde admins'] } }],
  ['the site\'s own certificate', { webhook: { certificate: { generate: false, secretName: 'sde-webhook-cert-manager', caBundle: Buffer.from('the trust\'s CA').toString('base64') } } }],
  ['no webhooks', { webhook: { enabled: false } }],
  ['a register Ingress with class and TLS', { register: { ingressController: { namespace: 'ingress', podLabels: { 'app.kubernetes.io/name': 'ingress-nginx' } }, ingress: { host: 'register.example.nhs.uk', className: 'nginx', tlsSecretName: 'register-tls' } } }],
  ['a register Ingress alone', { register: { ingress: { host: 'register.example.nhs.uk' } } }],
  ['a ServiceMonitor', { serviceMonitor: { enabled: true, interval: '1m' } }],
  ['one replica without leader election', { replicas: 1, leaderElection: { enabled: false } }],
  ['other heap sizes and resources', { heap: { maxOldSpaceMB: 900, maxSemiSpaceMB: 8, mallocArenas: 4 }, resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '4', memory: '2Gi' } } }],
  ['other ports and DNS', { metrics: { port: 9090 }, register: { port: 9091 }, apiServer: { ports: [6443] }, siteConfig: { dns: { namespace: 'dns', podLabels: { 'k8s-app': 'coredns' }, port: 5353 } } }],
])('helm template with %s', (_name, override) => {
  it('renders the objects and fields of renderOperatorInstall', () => {
    const values = valuesWith(override);
    expect(comparable(helmTemplate(values, 'sde-system'))).toEqual(comparable(constructsFor(values, 'sde-system')));
  });
});

describe('the webhooks\' certificate', () => {
  const webhook = templates.find((t) => t.certificate !== undefined);
  const text = generated.get(`templates/${webhook?.file ?? ''}`) ?? '';

  it.each(['sde-system', 'research-platform'])('is made by Helm for the webhook Service\'s name in namespace %s, by the CA every caBundle trusts, and served by the operator', (namespace) => {
    expect(webhook?.certificate && instantiateValue(webhook.certificate.dnsName, release(defaults as Values, namespace))).toBe(webhookDnsName(namespace));
    expect(text).toContain(`{{- $ca := genCA ${JSON.stringify(WEBHOOK_CA_NAME)} ${WEBHOOK_CERTIFICATE_DAYS.ca} }}`);
    expect(text).toContain(`{{- $cert := genSignedCert $dnsName nil (list $dnsName) ${WEBHOOK_CERTIFICATE_DAYS.serving} $ca }}`);
    expect(text).toContain('{{- $caBundle = $ca.Cert | b64enc }}');
    const chart = helmTemplate(defaults as Values, namespace);
    const secret = chart.find((o) => o.kind === 'Secret');
    const data = secret?.data as Record<string, string>;
    const webhooks = chart.filter((o) => o.kind.endsWith('WebhookConfiguration')).flatMap((o) => o.webhooks as { clientConfig: { caBundle: string } }[]);
    expect(webhooks).toHaveLength(5);
    for (const w of webhooks) expect(w.clientConfig.caBundle).toBe(data['ca.crt']);
    const volumes = JSON.stringify(chart.find((o) => o.kind === 'Deployment'));
    expect(volumes).toContain(`"secretName":"${secret?.metadata.name}"`);
  });
});

// ---- the template text ----

const ACTION = /\{\{-? (.*?) -?\}\}/g;
const INLINE = /^(?:\$?\.Values(?:\.\w+)+|\$?\.Release\.Namespace|\.|\$\w+(?:\.\w+)?(?: \| b64enc)?|printf "(?:[^"\\]|\\.)*"(?: \S+)+)(?: \| quote)?$/;
const LINE_FORMS = [
  /^\{\{- \/\* .* \*\/ -\}\}$/, // the generated-file notice
  /^ *\{\{- (?:if|range) \$?\.Values(?:\.\w+)+ \}\}$/,
  /^ *\{\{- end \}\}$/,
  /^ *\{\{- toYaml \$?\.Values(?:\.\w+)+ \| nindent \d+ \}\}$/,
  /^\{\{- \$\w+ :?= .+ \}\}$/, // the certificate's variables
];

function checkActions(text: string, file: string): void {
  let depth = 0;
  for (const line of text.split('\n')) {
    if (line.trimStart().startsWith('{{-')) {
      expect(LINE_FORMS.some((f) => f.test(line)), `${file}: ${line}`).toBe(true);
      if (/\{\{- (if|range) /.test(line)) depth++;
      if (/\{\{- end /.test(line)) depth--;
      expect(depth, `${file}: an end without its block`).toBeGreaterThanOrEqual(0);
    } else {
      for (const m of line.matchAll(ACTION)) expect(m[1], `${file}: ${line}`).toMatch(INLINE);
    }
  }
  expect(depth, `${file}: a block without its end`).toBe(0);
}

// The text read with every block taken once: control lines dropped, actions as markers.
function readBack(text: string): unknown[] {
  const lines = text.split('\n').flatMap((line) => {
    const toYaml = /^( *)\{\{- (toYaml \S+) \| nindent (\d+) \}\}$/.exec(line);
    if (toYaml) return [`${' '.repeat(Number(toYaml[3]))}«${toYaml[2]}»`];
    if (line.trimStart().startsWith('{{-') || line === '---') return line === '---' ? ['---'] : [];
    return [line.replace(ACTION, (_m, body: string) => `'«${body.replaceAll("'", "''")}»'`)];
  });
  return parseAllDocuments(lines.join('\n')).map((d) => {
    expect(d.errors, lines.join('\n')).toEqual([]);
    return d.toJS() as unknown;
  });
}

// The tree with every block taken once, each value as the marker of its action.
function skeleton(node: TemplateNode, scope: Scope): unknown {
  const within = (guards: Guard[]): Scope => ({ ranges: [...scope.ranges, ...guards.filter((g) => g.kind === 'range')] });
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'value':
      return `«${valueAction(node, scope)}»`;
    case 'yaml':
      return node.as === 'map' ? `«toYaml ${expression(node.source, scope)}»` : `«toYaml ${expression(node.source, scope)}»\n`;
    case 'map':
      return Object.fromEntries(node.entries.map((e) => [e.key, skeleton(e.value, within(e.guards))]));
    case 'list':
      return node.items.map((i) => skeleton(i.value, within(i.guards)));
  }
}

describe('the template text', () => {
  it.each(templates.map((t) => [t.file, t] as const))('templates/%s: simple actions, balanced blocks, and the tree\'s shape', (file, template: ChartTemplate) => {
    const text = generated.get(`templates/${file}`) ?? '';
    checkActions(text, file);
    const scope = { ranges: template.guards.filter((g) => g.kind === 'range') };
    expect(readBack(text)).toEqual(template.documents.map((d) => skeleton(d.node, scope)));
  });

  it('writes a value inside a range from the root ($), and an entry as .', () => {
    const inRange: Scope = { ranges: [{ kind: 'range', path: ['apiServer', 'cidrs'] }] };
    expect(expression({ from: 'values', path: ['webhook', 'port'] }, inRange)).toBe('$.Values.webhook.port');
    expect(expression({ from: 'namespace' }, inRange)).toBe('$.Release.Namespace');
    expect(expression({ from: 'item', of: 'apiServer.cidrs' }, inRange)).toBe('.');
    expect(() => expression({ from: 'item', of: 'webhook.trustedGroups' }, inRange)).toThrow(/outside the range/);
  });
});

// ---- values ----

function zodIssues(values: Values): string {
  const { siteConfig: site, ...options } = values;
  const issues = [...(siteConfig.safeParse(site).error?.issues.map((i) => ({ ...i, path: ['siteConfig', ...i.path] })) ?? []), ...(operatorInstallOptions.safeParse(options).error?.issues ?? [])];
  return JSON.stringify(issues);
}

describe('chart values', () => {
  it('default to the install options\' zod defaults', () => {
    expect(parseInstallOptions(installOptions(defaults as Values, 'sde-system'))).toEqual(parseInstallOptions({}));
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

  it.each([
    ['replicas as text', { replicas: 'two' }, '/replicas', 'replicas'],
    ['two replicas without leader election', { leaderElection: { enabled: false } }, '/replicas', 'replicas'],
    ['an unknown pull policy', { image: { pullPolicy: 'Sometimes' } }, '/image/pullPolicy', 'pullPolicy'],
    ['a misspelt top-level key', { replica: 3 }, 'replica', 'replica'],
    ['a site name that is not a DNS label', { siteConfig: { site: 'UCLH Trust' } }, '/siteConfig/site', 'site'],
    ['a DNS port that is not one', { siteConfig: { dns: { port: 70000 } } }, '/siteConfig/dns/port', 'port'],
    ['a CIDR that is not one', { apiServer: { cidrs: ['10.0.0.1'] } }, '/apiServer/cidrs/0', 'cidrs'],
    ['a numeric image tag (unquoted 0.2)', { image: { tag: 0.2 } }, '/image/tag', 'tag'],
    ['no malloc arena', { heap: { mallocArenas: 0 } }, '/heap/mallocArenas', 'mallocArenas'],
    ['a register host that is a URL', { register: { ingress: { host: 'https://register.sde.uclh.nhs.uk/' } } }, '/register/ingress/host', 'host'],
    ['a register port below 1024', { register: { port: 80 } }, '/register/port', 'port'],
    ['a misspelt register key', { register: { ingresController: {} } }, 'ingresController', 'ingresController'],
    ['a failure policy, which is not a value', { webhook: { failurePolicy: 'Ignore' } }, 'failurePolicy', 'failurePolicy'],
    ['a site\'s own certificate without its CA', { webhook: { certificate: { generate: false } } }, '/webhook/certificate/caBundle', 'caBundle'],
    ['a caBundle beside a generated certificate', { webhook: { certificate: { caBundle: 'LS0tLS1CRUdJTg==' } } }, '/webhook/certificate/caBundle', 'caBundle'],
    ['a caBundle that is not base64', { webhook: { certificate: { generate: false, caBundle: '-----BEGIN CERTIFICATE-----' } } }, '/webhook/certificate/caBundle', 'caBundle'],
    ['a trusted group that reads as a flag', { webhook: { trustedGroups: ['--leader-elect'] } }, '/webhook/trustedGroups/0', 'trustedGroups'],
  ])('refuse %s, in zod and in values.schema.json', (_what, override, where, field) => {
    const values = valuesWith(override);
    const validate = new Ajv({ allErrors: true }).compile(schema);
    expect(validate(values)).toBe(false);
    expect(JSON.stringify(validate.errors)).toContain(where);
    expect(zodIssues(values)).toContain(field);
  });

  it('check patterns Go\'s regexp compiles (no lookaround, no backreference), as Helm\'s validator needs', () => {
    const patterns = [...JSON.stringify(schema).matchAll(/"pattern":"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    expect(patterns.length).toBeGreaterThan(10);
    for (const p of patterns) expect(p).not.toMatch(/\(\?[=!<]|\\[1-9]/);
  });
});

describe('NOTES.txt (written by hand)', () => {
  const notes = read('templates/NOTES.txt');

  it('reads only values that values.yaml and values.schema.json have', () => {
    const paths = new Set([...notes.matchAll(/\.Values((?:\.[A-Za-z_]\w*)+)/g)].map((m) => (m[1] ?? '').slice(1)));
    expect(paths.size).toBeGreaterThan(5);
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

  it('balances its blocks', () => {
    let depth = 0;
    for (const m of notes.matchAll(/\{\{-? (if|else|end)\b/g)) {
      depth += m[1] === 'if' ? 1 : m[1] === 'end' ? -1 : 0;
      expect(depth).toBeGreaterThanOrEqual(0);
    }
    expect(depth).toBe(0);
  });

  it('names only objects the chart installs', () => {
    const names = new Set(helmTemplate(valuesWith({ serviceMonitor: { enabled: true }, register: { ingress: { host: 'register.example.nhs.uk' } } }), 'sde-system').map((o) => o.metadata.name));
    const named = new Set([...notes.matchAll(/\bsde-operator(?:-[a-z]+)*/g)].map((m) => m[0]));
    expect(named.size).toBeGreaterThan(3);
    for (const name of named) expect(names, name).toContain(name);
  });
});
