// Asking a cluster's authorizer: SubjectAccessReview through client-node, the question
// `kubectl auth can-i --as` puts as a SelfSubjectAccessReview under impersonation.
import { AuthorizationV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { AccessAsker } from './access.ts';

/**
 * An {@link AccessAsker} that posts a SubjectAccessReview for each question. The caller's
 * credentials need `create` on subjectaccessreviews (cluster-admin has it).
 */
export function subjectAccessReviewer(kubeConfig: KubeConfig): AccessAsker {
  const api = kubeConfig.makeApiClient(AuthorizationV1Api);
  return async (subject, attributes) => {
    const review = await api.createSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user: subject.user, groups: subject.groups, resourceAttributes: attributes },
      },
    });
    return review.status?.allowed === true;
  };
}
