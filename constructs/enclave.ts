// Enclave → its namespace (sandpit) and everything in it.
import * as kplus from 'cdk8s-plus-27';
import { enclaveNamespace } from '../api/enclave.ts';
import type { Enclave } from '../api/enclave.ts';
import type { SiteConfig } from '../api/siteconfig.ts';
import { addAutoProvisionedWorkspaces } from './autoprovision.ts';
import { addDatasetStorage } from './datasets.ts';
import { enclaveChildLabels, POD_SECURITY_RESTRICTED } from './labels.ts';
import { addPackageMirrorConfig } from './mirror.ts';
import { addEnclaveNetwork } from './network.ts';
import { ownerReferences, synthesize } from './objects.ts';
import type { KubeObject, RenderOptions } from './objects.ts';
import { addEnclaveQuota } from './quota.ts';
import { addEnclaveAccess } from './rbac.ts';

/**
 * The desired state of an enclave, in apply order: its Namespace (PSA restricted), its
 * NetworkPolicies (default-deny first), then quota, limits, RBAC (RoleBindings only while access
 * is active), the package-mirror configuration its pods mount, dataset volumes and claims, and
 * auto-provisioned Workspaces. Pure and deterministic.
 */
export function renderEnclave(enclave: Enclave, site: SiteConfig, opts: RenderOptions): KubeObject[] {
  const owners = ownerReferences(enclave);
  return synthesize((chart) => {
    new kplus.Namespace(chart, 'namespace', {
      metadata: {
        name: enclaveNamespace(enclave.metadata.name),
        labels: { ...enclaveChildLabels(enclave, 'namespace'), ...POD_SECURITY_RESTRICTED },
        annotations: { 'sde.london/project-title': enclave.spec.project.title },
        ownerReferences: owners,
      },
    });
    addEnclaveNetwork(chart, enclave, site, owners);
    addEnclaveQuota(chart, enclave, site, owners);
    addEnclaveAccess(chart, enclave, opts.accessActive, owners);
    addPackageMirrorConfig(chart, enclave, site, owners);
    addDatasetStorage(chart, enclave, site);
    addAutoProvisionedWorkspaces(chart, enclave, site, owners);
  });
}
