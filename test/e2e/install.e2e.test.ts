// The installation with its admission webhooks, as kube-apiserver sees it. Everything the stack and
// the chart install (renderOperatorInstall, the webhooks' TLS Secret with a certificate made here
// by openssl for the Service's name, and the webhook configurations trusting its CA) is applied
// with server-side dry-run into a namespace made from the rendered one: the API server validates
// and admits every object (PodSecurity `restricted` included) and stores nothing. No replica can
// answer here (no pod network, and the dry-run stores no Service), which the second test uses to
// show the webhooks failing closed: the workspaces webhook as rendered, narrowed to this test's
// namespace so no other namespace is touched, makes the API server refuse a member's write and the
// namespace controller's delete alike. (With the Service stored and no ready replica, the call
// fails on a refused or timed-out connection instead of "service not found": the same refusal.)
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { siteConfig } from '../../api/siteconfig.ts';
import { caBundleOf, renderInstallWebhooks, renderWebhookTlsSecret, webhookDnsName, type WebhookCertificate } from '../../constructs/install/admission.ts';
import { OPERATOR_LABELS, renderOperatorInstall } from '../../constructs/install/operator.ts';
import { parseInstallOptions } from '../../constructs/install/options.ts';
import type { KubeObject } from '../../constructs/objects.ts';
import type { KubeClient } from '../../operator/runtime/index.ts';
import { hasOpenssl, servingCertificate } from '../support/certificates.ts';
import { connect, installCrds, K, kubeconfigPath, read, until } from './harness.ts';

const RUN = `e2e-install-${Date.now().toString(36)}`;
const example = (file: string): unknown => parse(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8'));

function kubectl(args: string[], input?: unknown): { ok: boolean; stdout: string; stderr: string } {
  const run = spawnSync('kubectl', ['--kubeconfig', kubeconfigPath as string, ...args], { encoding: 'utf8', ...(input !== undefined ? { input: JSON.stringify(input) } : {}) });
  return { ok: run.status === 0, stdout: run.stdout, stderr: run.stderr };
}

function workspace(name: string): KubeObject {
  const w = structuredClone(example('workspace-rstudio.yaml')) as KubeObject;
  w.metadata = { name, namespace: RUN };
  return w;
}

describe.skipIf(!kubeconfigPath || !hasOpenssl)(`the installation on the API server in KUBECONFIG (namespace ${RUN})`, () => {
  let client: KubeClient;
  const options = parseInstallOptions({ namespace: RUN, webhook: { trustedGroups: ['sde:platform-engineers'] }, apiServer: { cidrs: ['127.0.0.1/32'] } });
  const install = renderOperatorInstall(siteConfig.parse(example('site-uclh.yaml')), options);
  let certificate: WebhookCertificate;
  const probe = `${RUN}-probe`;

  beforeAll(async () => {
    ({ client } = connect());
    await installCrds(client);
    const cert = servingCertificate([webhookDnsName(RUN)]);
    certificate = { caPem: cert.caPem, certPem: readFileSync(join(cert.certDir, 'tls.crt'), 'utf8'), keyPem: readFileSync(join(cert.certDir, 'tls.key'), 'utf8') };
    // The one object stored: the rendered namespace, so the namespaced objects have somewhere to go.
    await client.apply(install.find((o) => o.kind === 'Namespace') as KubeObject, { fieldManager: 'sde-e2e', force: true });
  });

  afterAll(async () => {
    // A fail-closed webhook must not outlive the test: it goes first, then the namespace.
    await client?.delete({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: probe } }).catch(() => undefined);
    await client?.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: RUN } }).catch(() => undefined);
  });

  it('accepts every object the stack and the chart install, the webhooks\' Secret and configurations included, and PodSecurity restricted admits the operator\'s pod', () => {
    const objects = [
      ...install.filter((o) => o.kind !== 'Namespace'),
      renderWebhookTlsSecret(options, certificate, OPERATOR_LABELS),
      ...renderInstallWebhooks(options, caBundleOf(certificate.caPem), OPERATOR_LABELS),
    ];
    const applied = kubectl(['apply', '--dry-run=server', '-o', 'json', '-f', '-'], { apiVersion: 'v1', kind: 'List', items: objects });
    expect(applied.stderr).toBe('');
    expect(applied.ok).toBe(true);
    const stored = (JSON.parse(applied.stdout) as { items: KubeObject[] }).items;
    expect(stored.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort());
    expect(stored.map((o) => o.kind)).toEqual(expect.arrayContaining(['Deployment', 'Service', 'Secret', 'NetworkPolicy', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']));
    // What the server would keep is what was rendered: the certificate, the caBundle, the Service it calls.
    const secret = stored.find((o) => o.kind === 'Secret');
    expect(secret?.type).toBe('kubernetes.io/tls');
    expect(Buffer.from((secret?.data as Record<string, string>)['tls.crt'] ?? '', 'base64').toString('utf8')).toBe(certificate.certPem);
    const webhooks = stored.filter((o) => o.kind.endsWith('WebhookConfiguration')).flatMap((o) => o.webhooks as { failurePolicy: string; clientConfig: { caBundle: string; service: Record<string, unknown> } }[]);
    expect(webhooks).toHaveLength(5);
    for (const w of webhooks) {
      expect(w.failurePolicy).toBe('Fail');
      expect(w.clientConfig.caBundle).toBe(caBundleOf(certificate.caPem));
      expect(w.clientConfig.service).toMatchObject({ namespace: RUN, name: 'sde-operator-webhook', port: 443 });
    }
    const container = ((stored.find((o) => o.kind === 'Deployment')?.spec as { template: { spec: { containers: { args: string[] }[] } } }).template.spec.containers[0]);
    expect(container?.args.slice(-6)).toEqual(['--webhook-cert-dir', '/etc/sde-operator-webhook', '--webhook-port', '9443', '--trusted-group', 'sde:platform-engineers']);
    expect(kubectl(['get', '-n', RUN, 'secret/sde-operator-webhook-tls']).stderr).toContain('NotFound');
  });

  it('fails closed: with nothing answering at the webhook Service, workspace writes are refused, and the namespace controller cannot delete one until the webhook is gone', async () => {
    expect(kubectl(['create', '-f', '-'], workspace('kept')).ok).toBe(true);
    const [validating] = renderInstallWebhooks(options, caBundleOf(certificate.caPem), OPERATOR_LABELS);
    const workspaces = (validating?.webhooks as { name: string }[]).filter((w) => w.name === 'workspaces.validate.sde.london');
    const narrowed = { ...validating, metadata: { name: probe }, webhooks: workspaces.map((w) => ({ ...w, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': RUN } } })) };
    await client.apply(narrowed as KubeObject, { fieldManager: 'sde-e2e', force: true });
    const refused = await until('the webhook configuration in force', async () => {
      const created = kubectl(['create', '-f', '-'], workspace('refused'));
      return !created.ok && created.stderr;
    }, 30_000, 250);
    expect(refused).toContain('failed calling webhook "workspaces.validate.sde.london"');
    expect(kubectl(['delete', 'workspace', 'kept', '-n', RUN, '--wait=false']).stderr).toContain('failed calling webhook');
    // The namespace controller is refused too: the namespace stays Terminating with the workspace in it.
    expect(kubectl(['delete', 'namespace', RUN, '--wait=false']).ok).toBe(true);
    const stuck = await until('the namespace controller refused', async () => {
      const ns = await read(client, K.Namespace, RUN);
      const condition = ns?.status?.conditions?.find((c) => c.type === 'NamespaceDeletionContentFailure' && c.status === 'True');
      return condition?.message;
    }, 60_000, 500);
    expect(stuck).toContain('failed calling webhook');
    expect(await read(client, K.Workspace, 'kept', RUN)).toBeDefined();
    // A replica serving again (here: the webhook removed) lets the namespace controller finish.
    await client.delete({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: probe } });
    await until('the namespace gone', async () => (await read(client, K.Namespace, RUN)) === undefined, 120_000, 500);
  });
});
