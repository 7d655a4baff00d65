// The admission webhooks: their decisions case by case (authors act for themselves, the record
// only grows, identities come from the request), then the operator serving them over TLS as the
// API server would call it. Kubernetes' own side (the API server calling it and refusing the
// request) is tested on the real control plane in test/e2e/admission.e2e.test.ts.
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Enclave } from '../../api/enclave.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';
import { ACCESS_CHANGED_BY, SUBMITTED_BY } from '../../api/labels.ts';
import { WEBHOOK_PATHS } from '../../constructs/install/webhook.ts';
import { WEBHOOK_LISTENER } from '../../operator/webhook/index.ts';
import type { AdmissionRequest, Decision } from '../../operator/webhook/review.ts';
import { accessRecordKept, federatedJobAuthorship, recordAccessChange, recordSubmitter, workspaceAuthorship } from '../../operator/webhook/rules.ts';
import { cardiacEnclave, uclhSite } from '../constructs/fixtures.ts';
import { hasOpenssl, servingCertificate } from '../support/certificates.ts';
import type { ServingCertificate } from '../support/certificates.ts';
import { example, startTestSite } from './harness.ts';
import type { TestSite } from './harness.ts';

const TRUSTED = { operatorUser: 'system:serviceaccount:sde-system:sde-operator', groups: ['uclh-platform'] };
const LEAD = 'j.patel@ucl.ac.uk';
const RESEARCHER = 'm.okafor@ucl.ac.uk';
const OUTSIDER = 'x.stranger@example.org';

function review(operation: AdmissionRequest['operation'], user: string, object?: Record<string, unknown>, oldObject?: Record<string, unknown>, groups: string[] = ['system:authenticated']): AdmissionRequest {
  const named = (object ?? oldObject) as { metadata?: { name?: string; namespace?: string } } | undefined;
  return { uid: 'u-1', kind: { group: 'sde.london', version: 'v1alpha1', kind: 'Workspace' }, operation, userInfo: { username: user, groups }, name: named?.metadata?.name, namespace: named?.metadata?.namespace, object: object ?? null, oldObject: oldObject ?? null };
}
const workspace = (owner: string, name = 'w'): Record<string, unknown> => ({ metadata: { name, namespace: 'sde-cardiac-mri' }, spec: { owner } });
const outcome = (decision: Decision): string => (decision.allowed ? 'allowed' : decision.message);

describe('workspaceAuthorship', () => {
  const enclave: Enclave = cardiacEnclave();
  const site: SiteConfig = uclhSite();
  it.each([
    ['a researcher creates their own', review('CREATE', RESEARCHER, workspace(RESEARCHER)), 'allowed'],
    ['a researcher creates one for another member', review('CREATE', RESEARCHER, workspace(LEAD)), `spec.owner: ${RESEARCHER} may create only their own Workspaces (a lead of the enclave may for any member); found one owned by "${LEAD}"`],
    ['a researcher changes another\'s (its image, say)', review('UPDATE', RESEARCHER, workspace(LEAD), workspace(LEAD)), `spec.owner: ${RESEARCHER} may change only their own Workspaces (a lead of the enclave may for any member); found one owned by "${LEAD}"`],
    ['a researcher takes another\'s by naming themselves owner', review('UPDATE', RESEARCHER, workspace(RESEARCHER), workspace(LEAD)), `spec.owner: ${RESEARCHER} may change only their own Workspaces (a lead of the enclave may for any member); found one owned by "${LEAD}"`],
    ['a researcher hands their own to another', review('UPDATE', RESEARCHER, workspace(LEAD), workspace(RESEARCHER)), `spec.owner: ${RESEARCHER} may change only their own Workspaces (a lead of the enclave may for any member); found one owned by "${LEAD}"`],
    ['a researcher deletes another\'s', review('DELETE', RESEARCHER, undefined, workspace(LEAD)), `spec.owner: ${RESEARCHER} may delete only their own Workspaces (a lead of the enclave may for any member); found one owned by "${LEAD}"`],
    ['a researcher deletes their own', review('DELETE', RESEARCHER, undefined, workspace(RESEARCHER)), 'allowed'],
    ['a lead creates one for a member', review('CREATE', LEAD, workspace(RESEARCHER)), 'allowed'],
    ['a lead deletes a member\'s', review('DELETE', LEAD, undefined, workspace(RESEARCHER)), 'allowed'],
    ['someone outside the enclave, as owner', review('CREATE', OUTSIDER, workspace(OUTSIDER)), 'allowed'],
    ['a researcher takes an auto-provisioned name', review('CREATE', RESEARCHER, workspace(RESEARCHER, 'auto-j-patel-ucl-ac-uk-1225a9bf')), 'metadata.name: expected a name not starting with "auto-", which the operator gives the workspaces it provisions for members; found "auto-j-patel-ucl-ac-uk-1225a9bf"'],
    ['the operator provisions one for a member', review('CREATE', TRUSTED.operatorUser, workspace(RESEARCHER, 'auto-m-okafor-x')), 'allowed'],
    ['a cluster administrator', review('DELETE', 'admin', undefined, workspace(RESEARCHER), ['system:masters']), 'allowed'],
    ['the namespace controller emptying a deleted enclave', review('DELETE', 'system:serviceaccount:kube-system:namespace-controller', undefined, workspace(RESEARCHER), ['system:serviceaccounts', 'system:serviceaccounts:kube-system']), 'allowed'],
    ['the controller manager under its own user', review('DELETE', 'system:kube-controller-manager', undefined, workspace(RESEARCHER), ['system:authenticated']), 'allowed'],
    ['a platform engineer of the site', review('CREATE', 'p.eng@uclh.nhs.uk', workspace(RESEARCHER), undefined, ['uclh-platform']), 'allowed'],
  ])('%s: %s', (_name, request, expected) => {
    expect(outcome(workspaceAuthorship(request, enclave, site, TRUSTED))).toBe(expected);
  });

  it('knows a lead through a group the request names or the site resolves', () => {
    const e = cardiacEnclave();
    e.spec.members = [{ group: 'cardiac-leads', role: 'lead' }, { user: RESEARCHER, role: 'researcher' }];
    const s = uclhSite();
    expect(outcome(workspaceAuthorship(review('CREATE', 'a.khan@ucl.ac.uk', workspace(RESEARCHER), undefined, ['cardiac-leads']), e, s, TRUSTED))).toBe('allowed');
    s.groups = { 'cardiac-leads': ['a.khan@ucl.ac.uk'] };
    expect(outcome(workspaceAuthorship(review('CREATE', 'a.khan@ucl.ac.uk', workspace(RESEARCHER)), e, s, TRUSTED))).toBe('allowed');
    expect(outcome(workspaceAuthorship(review('CREATE', 'b.other@ucl.ac.uk', workspace(RESEARCHER)), e, s, TRUSTED))).not.toBe('allowed');
  });
});

describe('federated jobs: the submitter comes from the request', () => {
  const job = (submittedBy?: string): Record<string, unknown> => ({ metadata: { name: 'fl', namespace: 'sde-cardiac-mri', ...(submittedBy ? { annotations: { [SUBMITTED_BY]: submittedBy } } : {}) }, spec: {} });

  it('records the requesting user on create, overwriting what the request claimed', () => {
    expect(recordSubmitter(review('CREATE', RESEARCHER, job(LEAD)))).toEqual({ allowed: true, patch: [{ op: 'add', path: '/metadata/annotations/sde.london~1submitted-by', value: RESEARCHER }] });
    expect(recordSubmitter(review('CREATE', RESEARCHER, job()))).toEqual({ allowed: true, patch: [{ op: 'add', path: '/metadata/annotations', value: { [SUBMITTED_BY]: RESEARCHER } }] });
  });

  it('keeps the recorded submitter on a change that rewrites it', () => {
    expect(recordSubmitter(review('UPDATE', RESEARCHER, job(LEAD), job(RESEARCHER)))).toEqual({ allowed: true, patch: [{ op: 'add', path: '/metadata/annotations/sde.london~1submitted-by', value: RESEARCHER }] });
    expect(recordSubmitter(review('UPDATE', RESEARCHER, job(RESEARCHER), job(RESEARCHER)))).toEqual({ allowed: true, patch: [] });
  });

  it.each([
    ['the submitter deletes it', review('DELETE', RESEARCHER, undefined, job(RESEARCHER)), 'allowed'],
    ['a lead deletes a member\'s', review('DELETE', LEAD, undefined, job(RESEARCHER)), 'allowed'],
    ['another researcher changes it', review('UPDATE', 'r.shah@ucl.ac.uk', job(RESEARCHER), job(RESEARCHER)), `metadata.annotations.${SUBMITTED_BY}: r.shah@ucl.ac.uk may change only the federated jobs they submitted (a lead of the enclave may any); this one was submitted by ${RESEARCHER}`],
    ['anyone creates one (RBAC decides)', review('CREATE', RESEARCHER, job()), 'allowed'],
  ])('%s', (_name, request, expected) => {
    expect(outcome(federatedJobAuthorship(request, cardiacEnclave(), uclhSite(), TRUSTED))).toBe(expected);
  });
});

describe('enclaves: the access record only grows, and says who changed it', () => {
  const enclave = (access: Record<string, unknown>, changedBy?: string): Record<string, unknown> => ({
    metadata: { name: 'cardiac-mri', ...(changedBy ? { annotations: { [ACCESS_CHANGED_BY]: changedBy } } : {}) },
    spec: { access: { expiresAt: '2027-12-31T23:59:59Z', extensions: [], ...access } },
  });
  const extension = { until: '2028-06-30T00:00:00Z', justification: 'Reviewer revisions', approvedBy: 'UCLH DAC' };

  it.each([
    ['expiresAt moved 30 days ahead', enclave({}), enclave({ expiresAt: '2028-01-30T23:59:59Z' }), 'spec.access.expiresAt: is fixed once set'],
    ['an extension removed', enclave({ extensions: [extension] }), enclave({}), 'spec.access.extensions[0]: may not be removed'],
    ['an extension appended', enclave({}), enclave({ extensions: [extension] }), 'allowed'],
  ])('%s', (_name, before, after, expected) => {
    const decision = accessRecordKept(review('UPDATE', 'admin', after, before, ['system:masters']));
    expect(outcome(decision).startsWith(expected)).toBe(true);
  });

  it('records who changed the access period, and keeps the name when only something else changed', () => {
    const before = enclave({}, 'p.eng@uclh.nhs.uk');
    expect(recordAccessChange(review('UPDATE', 'admin', enclave({ extensions: [extension] }, 'someone.else'), before))).toEqual({ allowed: true, patch: [{ op: 'add', path: '/metadata/annotations/sde.london~1access-changed-by', value: 'admin' }] });
    expect(recordAccessChange(review('UPDATE', 'admin', enclave({}, 'forged@example.org'), before))).toEqual({ allowed: true, patch: [{ op: 'add', path: '/metadata/annotations/sde.london~1access-changed-by', value: 'p.eng@uclh.nhs.uk' }] });
  });
});

describe.skipIf(!hasOpenssl)('the operator serving the webhooks over TLS', () => {
  let site: TestSite;
  let cert: ServingCertificate;
  let port: number;
  beforeAll(async () => {
    cert = servingCertificate();
    site = await startTestSite();
    const operator = await site.startOperator({ webhook: { certDir: cert.certDir, port: 0, host: '127.0.0.1', trusted: TRUSTED } });
    port = operator.portOf(WEBHOOK_LISTENER) as number;
    await site.apply(example('enclave-cardiac-mri.yaml'));
    await site.waitFor('the enclave in the cache', async () => (await site.get('sde.london/v1alpha1', 'Enclave', 'cardiac-mri')) !== undefined);
  });
  afterAll(async () => {
    await site?.close();
  });

  const post = (path: string, body: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const request = httpsRequest({ host: '127.0.0.1', port, path, method: 'POST', ca: cert.caPem, headers: { 'content-type': 'application/json' } }, (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      });
      request.on('error', reject);
      request.end(body);
    });
  const admission = async (path: string, request: AdmissionRequest): Promise<Record<string, unknown>> => {
    const answer = await post(path, JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request }));
    expect(answer.status).toBe(200);
    return (JSON.parse(answer.body) as { response: Record<string, unknown> }).response;
  };

  it('refuses a researcher\'s workspace for another member with 403 and the reason, and allows their own', async () => {
    const refused = await admission(WEBHOOK_PATHS.validateWorkspaces, review('CREATE', RESEARCHER, workspace(LEAD)));
    expect(refused).toMatchObject({ uid: 'u-1', allowed: false, status: { code: 403, reason: 'Forbidden' } });
    expect((refused.status as { message: string }).message).toContain(`found one owned by "${LEAD}"`);
    // A lead is known from the enclave the operator has cached.
    expect(await admission(WEBHOOK_PATHS.validateWorkspaces, review('CREATE', LEAD, workspace(RESEARCHER)))).toEqual({ uid: 'u-1', allowed: true });
  });

  it('answers the mutation as a base64 JSONPatch', async () => {
    const answer = await admission(WEBHOOK_PATHS.mutateFederatedJobs, review('CREATE', RESEARCHER, { metadata: { name: 'fl', namespace: 'sde-cardiac-mri' }, spec: {} }));
    expect(answer.patchType).toBe('JSONPatch');
    expect(JSON.parse(Buffer.from(answer.patch as string, 'base64').toString())).toEqual([{ op: 'add', path: '/metadata/annotations', value: { [SUBMITTED_BY]: RESEARCHER } }]);
  });

  it('says what it expected of a request that is not a review, and knows no other path', async () => {
    expect(await post(WEBHOOK_PATHS.validateWorkspaces, 'not json')).toMatchObject({ status: 400 });
    expect((await post(WEBHOOK_PATHS.validateWorkspaces, '{}')).body).toBe('expected an AdmissionReview with a request and its uid\n');
    expect(await post('/validate/pods', '{}')).toMatchObject({ status: 404 });
  });
});
