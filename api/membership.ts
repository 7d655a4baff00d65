// Who an enclave's members are in practice: the users who may run workspaces (through the site's
// groups too), and the workspace the operator provisions for each.
import { WORKSPACE_ROLES } from './enclave.ts';
import type { Enclave } from './enclave.ts';
import { memberName } from './names.ts';
import type { SiteConfig } from './siteconfig.ts';
import { WORKSPACE_NAME_MAX } from './workspace.ts';

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
