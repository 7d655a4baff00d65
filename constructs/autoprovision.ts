// Auto-provisioning: being made a member of an enclave is enough for a workspace to appear.
import type { Construct } from 'constructs';
import { enclaveNamespace, WORKSPACE_ROLES } from '../api/enclave.ts';
import type { Enclave } from '../api/enclave.ts';
import { API_VERSION } from '../api/meta.ts';
import type { SiteConfig } from '../api/siteconfig.ts';
import { AUTO_PROVISIONED, enclaveChildLabels } from './labels.ts';
import { memberName } from './names.ts';
import { WORKSPACE_NAME_MAX } from './workspace.ts';
import type { OwnerReference } from './objects.ts';
import { PlainApiObject } from './objects.ts';

/**
 * The users who may run workspaces, in member order without repeats: user members with a
 * workspace role, and the users of a group member with a workspace role when the site can
 * resolve the group (site.groups); a group the site cannot resolve contributes nobody.
 */
export function workspaceUsers(enclave: Enclave, site: SiteConfig): string[] {
  const users: string[] = [];
  for (const m of enclave.spec.members) {
    if (!WORKSPACE_ROLES.includes(m.role)) continue;
    const found = m.user !== undefined ? [m.user] : (site.groups?.[m.group ?? ''] ?? []);
    for (const u of found) if (!users.includes(u)) users.push(u);
  }
  return users;
}

/** How the name of every auto-provisioned Workspace begins; admission keeps it for the operator. */
export const AUTO_WORKSPACE_PREFIX = 'auto-';

/** The stable name of a user's auto-provisioned Workspace: `auto-<slug>-<hash>`, short enough for a workspace (52 characters). */
export function autoWorkspaceName(user: string): string {
  return memberName(AUTO_WORKSPACE_PREFIX.slice(0, -1), user, WORKSPACE_NAME_MAX);
}

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
