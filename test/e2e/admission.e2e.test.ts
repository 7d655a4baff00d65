// Admission on the real API server: the operator serves its webhooks over TLS (a certificate made
// here), the project's own webhook configurations point kube-apiserver at them by URL, and members
// act as themselves through impersonation (`kubectl --as`). Authors act for themselves, the
// submitter and whoever changed access are recorded from the request, and the access record only
// grows: each refused by the API server, not undone afterwards.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ACCESS_CHANGED_BY, SUBMITTED_BY } from '../../api/labels.ts';
import { renderAdmissionWebhooks } from '../../constructs/install/webhook.ts';
import type { KubeClient } from '../../operator/runtime/index.ts';
import { hasOpenssl, servingCertificate } from '../support/certificates.ts';
import { connect, installCrds, isReady, K, kubeconfigPath, OperatorProcess, read, until, type Live } from './harness.ts';

const RUN = `e2e-adm-${Date.now().toString(36)}`;
const NS = `sde-${RUN}`;
const LEAD = 'j.patel@ucl.ac.uk';
const RESEARCHER = 'm.okafor@ucl.ac.uk';
const OTHER = 'r.shah@ucl.ac.uk';
const ADMISSION = `sde-operator-${RUN}`;

const exampleOf = (file: string): Live => parse(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8')) as Live;

function enclave(access: Record<string, unknown> = {}): Live {
  const e = structuredClone(exampleOf('enclave-cardiac-mri.yaml'));
  e.metadata = { name: RUN };
  (e.spec as { members: unknown[] }).members = [{ user: LEAD, role: 'lead' }, { user: RESEARCHER, role: 'researcher' }, { user: OTHER, role: 'researcher' }];
  Object.assign((e.spec as { access: Record<string, unknown> }).access, access);
  return e;
}

function workspace(name: string, owner: string): Live {
  const w = structuredClone(exampleOf('workspace-rstudio.yaml'));
  w.metadata = { name, namespace: NS };
  (w.spec as Record<string, unknown>).owner = owner;
  return w;
}

/** kubectl as `user` (impersonated by the admin kubeconfig), in the enclave's namespace. */
function kubectlAs(user: string, args: string[], input?: unknown): { ok: boolean; out: string } {
  const run = spawnSync('kubectl', ['--kubeconfig', kubeconfigPath as string, '--as', user, '-n', NS, ...args], { encoding: 'utf8', ...(input !== undefined ? { input: JSON.stringify(input) } : {}) });
  return { ok: run.status === 0, out: `${run.stdout}${run.stderr}` };
}

describe.skipIf(!kubeconfigPath || !hasOpenssl)(`admission webhooks on the API server in KUBECONFIG (run ${RUN})`, () => {
  let client: KubeClient;
  let operator: OperatorProcess;
  const apply = (object: Live): Promise<KubernetesObject> => client.apply(object, { fieldManager: 'sde-e2e', force: true });

  beforeAll(async () => {
    ({ client } = connect());
    await installCrds(client);
    const cert = servingCertificate(['127.0.0.1']);
    operator = await OperatorProcess.start(['--webhook-cert-dir', cert.certDir, '--webhook-port', '0']);
    const port = operator.logged('operator started')?.webhookPort as number;
    for (const object of renderAdmissionWebhooks({ name: ADMISSION, endpoint: { url: `https://127.0.0.1:${port}` }, caBundle: cert.caBundle })) await client.apply(object, { fieldManager: 'sde-e2e', force: true });
    await apply(enclave());
    await until('the enclave Ready', async () => isReady(await read(client, K.Enclave, RUN)), 120_000);
    // Admission reaches the webhook: an admin's own workspace for a member goes through it too.
    await until('the webhook answering', async () => kubectlAs(RESEARCHER, ['create', '--dry-run=server', '-f', '-'], workspace('probe', RESEARCHER)).ok, 30_000, 500);
  });

  afterAll(async () => {
    // Fail-closed webhooks must not outlive the operator that serves them.
    for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
      await client?.delete({ apiVersion: 'admissionregistration.k8s.io/v1', kind, metadata: { name: ADMISSION } }).catch(() => undefined);
    }
    await client?.delete({ apiVersion: K.Enclave.apiVersion, kind: 'Enclave', metadata: { name: RUN } }).catch(() => undefined);
    await operator?.stop();
  });

  it('refuses a researcher a workspace for another member, and lets them create their own', () => {
    const forged = kubectlAs(RESEARCHER, ['create', '-f', '-'], workspace('for-the-lead', LEAD));
    expect(forged.ok).toBe(false);
    expect(forged.out).toContain(`admission webhook "workspaces.validate.sde.london" denied the request: spec.owner: ${RESEARCHER} may create only their own Workspaces`);
    expect(kubectlAs(RESEARCHER, ['create', '-f', '-'], workspace('okafor-own', RESEARCHER)).ok).toBe(true);
  });

  it('refuses another researcher changing or deleting it, and lets a lead act for any member', () => {
    const edit = kubectlAs(OTHER, ['patch', 'workspace', 'okafor-own', '--type=merge', '-p', JSON.stringify({ spec: { image: 'nexus.sde.uclh.nhs.uk/sde/rstudio:evil' } })]);
    expect(edit.ok).toBe(false);
    expect(edit.out).toContain(`${OTHER} may change only their own Workspaces`);
    const take = kubectlAs(OTHER, ['patch', 'workspace', 'okafor-own', '--type=merge', '-p', JSON.stringify({ spec: { owner: OTHER } })]);
    expect(take.out).toContain(`found one owned by "${RESEARCHER}"`);
    expect(kubectlAs(OTHER, ['delete', 'workspace', 'okafor-own']).out).toContain(`${OTHER} may delete only their own Workspaces`);
    expect(kubectlAs(LEAD, ['create', '-f', '-'], workspace('shah-by-lead', OTHER)).ok).toBe(true);
    expect(kubectlAs(LEAD, ['delete', 'workspace', 'okafor-own']).ok).toBe(true);
  });

  it('keeps auto-provisioned workspace names for the operator', () => {
    const squat = kubectlAs(OTHER, ['create', '-f', '-'], workspace('auto-j-patel-ucl-ac-uk-1225a9bf', OTHER));
    expect(squat.out).toContain('metadata.name: expected a name not starting with "auto-"');
  });

  it('records who submitted a federated job from the request, not from what it claims, and only they or a lead may delete it', async () => {
    const job = structuredClone(exampleOf('federatedjob-nvflare.yaml'));
    job.metadata = { name: 'fl-run', namespace: NS, annotations: { [SUBMITTED_BY]: LEAD } };
    expect(kubectlAs(RESEARCHER, ['create', '-f', '-'], job).ok).toBe(true);
    const stored = await read(client, K.FederatedJob, 'fl-run', NS);
    expect(stored?.metadata?.annotations?.[SUBMITTED_BY]).toBe(RESEARCHER);
    const rewrite = kubectlAs(RESEARCHER, ['annotate', 'federatedjob', 'fl-run', '--overwrite', `${SUBMITTED_BY}=${LEAD}`]);
    expect(rewrite.ok).toBe(true);
    expect((await read(client, K.FederatedJob, 'fl-run', NS))?.metadata?.annotations?.[SUBMITTED_BY]).toBe(RESEARCHER);
    expect(kubectlAs(OTHER, ['delete', 'federatedjob', 'fl-run']).out).toContain(`may delete only the federated jobs they submitted (a lead of the enclave may any); this one was submitted by ${RESEARCHER}`);
    expect(kubectlAs(LEAD, ['delete', 'federatedjob', 'fl-run']).ok).toBe(true);
  });

  it('refuses moving expiresAt 30 days ahead without an extension, and removing an extension once appended', async () => {
    const moved = await apply(enclave({ expiresAt: '2028-01-30T23:59:59Z' })).then(() => undefined, (error: unknown) => error);
    expect(String(moved)).toContain('admission webhook "enclaves.validate.sde.london" denied the request: spec.access.expiresAt: is fixed once set: expected 2027-12-31T23:59:59Z, found 2028-01-30T23:59:59Z');
    const extension = { until: '2028-06-30T00:00:00Z', justification: 'e2e: reviewer revisions', approvedBy: 'UCLH DAC' };
    await apply(enclave({ extensions: [extension] }));
    const removed = await apply(enclave()).then(() => undefined, (error: unknown) => error);
    expect(String(removed)).toContain('spec.access.extensions[0]: may not be removed');
    const live = await until('the extension recorded, with who made it', async () => {
      const e = await read(client, K.Enclave, RUN);
      return ((e?.status as { accessHistory?: unknown[] } | undefined)?.accessHistory?.length ?? 0) === 2 && e;
    }, 30_000);
    expect(live.metadata?.annotations?.[ACCESS_CHANGED_BY]).toBe('admin');
    expect((live.status as { accessHistory: Array<Record<string, string>> }).accessHistory[1]).toMatchObject({ ...extension, recordedBy: 'admin' });
    expect((live.status as { effectiveExpiresAt?: string }).effectiveExpiresAt).toBe('2028-06-30T00:00:00Z');
  });
});
