// Admission as one piece of the operator: the webhooks' decisions, served on their own listener
// by every replica (leader or standby) from its own caches.
import type { KubernetesObject } from '@kubernetes/client-node';
import { enclave as enclaveSchema } from '../../api/enclave.ts';
import type { Enclave } from '../../api/enclave.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';
import { WEBHOOK_PATHS } from '../../constructs/install/webhook.ts';
import { enclaveNameOf } from '../enclave/lookup.ts';
import { SdeKinds } from '../kinds.ts';
import type { Manager, ObjectCache } from '../runtime/index.ts';
import { checkSpec } from '../spec-check.ts';
import type { AdmissionRequest } from './review.ts';
import { accessRecordKept, federatedJobAuthorship, recordAccessChange, recordSubmitter, workspaceAuthorship } from './rules.ts';
import type { Trusted } from './rules.ts';
import { WEBHOOK_PORT, WebhookServer } from './server.ts';

export { WEBHOOK_PORT } from './server.ts';

/** Name of the webhook's listener in its manager: `manager.portOf(WEBHOOK_LISTENER)`. */
export const WEBHOOK_LISTENER = 'webhook';

/** Where and as whom the webhook serves. */
export interface WebhookOptions {
  /** Folder with `tls.crt` and `tls.key`. */
  certDir: string;
  /** Default {@link WEBHOOK_PORT}; 0 picks a free one. */
  port?: number;
  host?: string;
  /** Who acts for anyone besides cluster administrators and Kubernetes' controllers (see {@link Trusted}). */
  trusted: Trusted;
}

/** The enclave an object in `namespace` belongs to, when it is valid; undefined otherwise (leads cannot be known then). */
function enclaveOf(enclaves: ObjectCache, namespace: string | undefined): Enclave | undefined {
  const name = enclaveNameOf(namespace);
  const live = name === undefined ? undefined : enclaves.get(name);
  if (live === undefined) return undefined;
  const checked = checkSpec(enclaveSchema, live as Readonly<KubernetesObject>);
  return checked.ok ? checked.value : undefined;
}

/** Adds the admission webhooks' listener to `manager`, deciding from its Enclave cache and `site`. */
export function addAdmissionWebhook(manager: Manager, site: SiteConfig, options: WebhookOptions): void {
  const enclaves = manager.cacheFor(SdeKinds.Enclave);
  const inEnclave = (request: AdmissionRequest): Enclave | undefined => enclaveOf(enclaves, request.namespace);
  const server = new WebhookServer({
    port: options.port ?? WEBHOOK_PORT,
    ...(options.host ? { host: options.host } : {}),
    certDir: options.certDir,
    logger: manager.logger,
    routes: {
      [WEBHOOK_PATHS.validateWorkspaces]: (request) => workspaceAuthorship(request, inEnclave(request), site, options.trusted),
      [WEBHOOK_PATHS.validateFederatedJobs]: (request) => federatedJobAuthorship(request, inEnclave(request), site, options.trusted),
      [WEBHOOK_PATHS.mutateFederatedJobs]: recordSubmitter,
      [WEBHOOK_PATHS.validateEnclaves]: accessRecordKept,
      [WEBHOOK_PATHS.mutateEnclaves]: recordAccessChange,
    },
  });
  manager.addListener(WEBHOOK_LISTENER, server);
}
