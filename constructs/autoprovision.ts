// Auto-provisioning: being made a member of an enclave is enough for a workspace to appear.
import type { Construct } from 'constructs';
import { enclaveNamespace } from '../api/enclave.ts';
import type { Enclave } from '../api/enclave.ts';
import { autoWorkspaceName, workspaceUsers } from '../api/membership.ts';
import { API_VERSION } from '../api/meta.ts';
import type { SiteConfig } from '../api/siteconfig.ts';
import { AUTO_PROVISIONED, enclaveChildLabels } from './labels.ts';
import type { OwnerReference } from './objects.ts';
import { PlainApiObject } from './objects.ts';

/**
 * Renders one Workspace custom resource per workspace user when spec.workspaces.autoProvision is
 * set; nothing otherwise. `state` is left out so that a researcher who stops their workspace keeps
 * it stopped: server-side apply then never claims the field.
 */
export function addAutoProvisionedWorkspaces(scope: Construct, enclave: Enclave, site: SiteConfig, ownerReferences: OwnerReference[] | undefined): void {
  const auto = enclave.spec.workspaces.autoProvision;
  if (auto === undefined) return;
  const namespace = enclaveNamespace(enclave.metadata.name);
  const labels = { ...enclaveChildLabels(enclave, 'workspace'), [AUTO_PROVISIONED]: 'true' };
  for (const user of workspaceUsers(enclave, site)) {
    const name = autoWorkspaceName(user);
    new PlainApiObject(scope, `auto-${name}`, {
      apiVersion: API_VERSION,
      kind: 'Workspace',
      metadata: { name, namespace, labels, ownerReferences },
      spec: {
        owner: user,
        tool: auto.tool,
        ...(auto.image !== undefined ? { image: auto.image } : {}),
        resources: { ...auto.resources },
        storage: { ...auto.storage },
      },
    });
  }
}
