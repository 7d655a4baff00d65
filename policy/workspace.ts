// Site rules for a Workspace: its owner, image, datasets and GPUs against its enclave and site.
import type { Enclave } from '../api/enclave.ts';
import type { SiteConfig } from '../api/siteconfig.ts';
import type { Workspace } from '../api/workspace.ts';
import { workspaceUsers } from '../api/membership.ts';
import { CHILD_SUFFIXES } from '../api/names.ts';
import { WORKSPACE_NAME_MAX, workspaceImage } from '../api/workspace.ts';
import { checkDatasets, checkGpus, checkImage, checkNamespace } from './common.ts';
import type { Finding } from './findings.ts';
import { enclaveImageRule } from './images.ts';

function checkName(name: string): Finding[] {
  if (name.length > WORKSPACE_NAME_MAX) {
    return [{ field: 'metadata.name', reason: 'NameTooLong', message: `expected at most ${WORKSPACE_NAME_MAX} characters (the StatefulSet's revision label appends 11); found ${name.length}` }];
  }
  const suffix = CHILD_SUFFIXES.find((s) => name.endsWith(`-${s}`));
  if (suffix === undefined) return [];
  return [{ field: 'metadata.name', reason: 'NameReserved', message: `expected a name not ending in "-${suffix}", which names another object's children (a federated job's aggregator, a workspace's home claim); found "${name}"` }];
}

function checkOwner(owner: string, enclave: Enclave, site: SiteConfig): Finding[] {
  if (workspaceUsers(enclave, site).includes(owner)) return [];
  const member = enclave.spec.members.find((m) => m.user === owner);
  if (member !== undefined) {
    return [{ field: 'spec.owner', reason: 'RoleMayNotRunWorkspaces', message: `expected a member with role researcher, lead or data-manager; found "${owner}" with role ${member.role}` }];
  }
  return [{ field: 'spec.owner', reason: 'OwnerNotMember', message: `expected a user who is a member of enclave ${enclave.metadata.name} (directly or through a group the site resolves); found "${owner}"` }];
}

/**
 * Checks a workspace against its enclave and site: in the enclave's namespace; a name its
 * StatefulSet can carry; owned by a
 * user member (or member of a resolvable group) whose role may run workspaces; image allowed;
 * datasets among the enclave's that the site catalogues; GPUs within the enclave's and of a product the pool has.
 */
export function checkWorkspace(ws: Workspace, enclave: Enclave, site: SiteConfig): Finding[] {
  return [
    ...checkNamespace(ws.metadata.namespace, enclave),
    ...checkName(ws.metadata.name),
    ...checkOwner(ws.spec.owner, enclave, site),
    ...checkImage(workspaceImage(ws, site), 'spec.image', enclaveImageRule(enclave, site)),
    ...checkDatasets(ws.spec.datasets ?? [], 'spec.datasets', enclave, site),
    ...checkGpus(ws.spec.resources, 'spec.resources', enclave, site),
  ];
}
