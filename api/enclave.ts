// Enclave: one approved project's sandpit at one site (cluster-scoped; becomes one namespace).
import { z } from 'zod';
import { cidr } from './cidr.ts';
import { API_VERSION, conditions, dnsLabel, gpuProduct, labelValue, objectMeta, podGpus, quantity, timestamp, unique, withRules } from './meta.ts';
import { duration } from './duration.ts';

export const MEMBER_ROLES = ['researcher', 'lead', 'data-manager', 'output-checker'] as const;
/** Roles whose holders get a workspace (and may run federated jobs). */
export const WORKSPACE_ROLES: readonly MemberRole[] = ['researcher', 'lead', 'data-manager'];
export const TOOLS = ['jupyterlab', 'rstudio', 'vscode'] as const;
/** The tool a workspace runs when it names none. */
export const DEFAULT_TOOL = 'jupyterlab' satisfies (typeof TOOLS)[number];

export type MemberRole = (typeof MEMBER_ROLES)[number];
export type Tool = (typeof TOOLS)[number];

const project = z
  .object({
    id: labelValue.describe('Approval reference of the project in the data use register, e.g. "SDE-2026-0042"; also a label on every object.'),
    title: z.string().min(1).max(200).describe('Project title as published in the data use register.'),
    organisation: z.string().min(1).max(200).describe('Organisation leading the project.'),
    purpose: z.string().min(1).max(2000).describe('Public summary of the purpose the data access committee approved.'),
    approvedBy: z.string().min(1).max(200).describe('The body that approved it, e.g. "UCLH Data Access Committee".'),
  })
  .describe('The approved project: Five Safes "safe projects".');

const extension = z.object({
  until: timestamp('New end of access granted by this extension.'),
  justification: z.string().min(1).max(2000).describe('Why access was extended.'),
  approvedBy: z.string().min(1).max(200).describe('Who approved the extension.'),
});

/**
 * Transition rules (CEL with oldSelf, checked on update by API servers from 1.25) that keep the
 * access record append-only where the server can say it; the operator's admission webhook says
 * all of it (api/access-record.ts) on every release, and zod cannot see an update at all.
 */
const FIXED_ONCE_SET = { 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'is fixed once set: extend access by appending an extension with its justification and approver' }] };
const APPEND_ONLY = {
  'x-kubernetes-validations': [{ rule: 'self.size() >= oldSelf.size() && oldSelf.all(e, e in self)', message: 'extensions are append-only: none may be removed or edited' }],
};

const access = withRules(
  z
    .object({
      validFrom: timestamp('Start of access; members have no access before it. Immediately when omitted. Fixed once set.').meta(FIXED_ONCE_SET).optional(),
      expiresAt: timestamp('End of access as first approved, fixed once set. At the effective end members lose access, workspaces stop and federated jobs suspend; nothing is deleted.').meta(FIXED_ONCE_SET),
      extensions: z
        .array(extension)
        .max(100)
        .default([])
        .meta(APPEND_ONLY)
        .describe('Approved extensions, append-only and kept as history; the effective end is the latest of expiresAt and every extension\'s until.'),
    })
    .describe('Time-limited access: Five Safes "safe people".'),
  [
    {
      rule: '!has(self.validFrom) || timestamp(self.validFrom) < timestamp(self.expiresAt)',
      message: 'validFrom must be before expiresAt',
      field: 'validFrom',
      check: (a) => a.validFrom === undefined || Date.parse(a.validFrom) < Date.parse(a.expiresAt),
    },
  ],
);

const member = withRules(
  z
    .object({
      user: z.string().min(1).max(253).optional().describe('User name as the cluster authenticates it (e.g. an OIDC subject or e-mail). Exactly one of user or group.'),
      group: z.string().min(1).max(253).optional().describe('Group name as the cluster authenticates it. Exactly one of user or group.'),
      role: z.enum(MEMBER_ROLES).describe('researcher: runs workspaces and federated jobs; lead: + reads events and quotas; data-manager: + sees the volume claims; output-checker: read-only, reviews outputs.'),
    })
    .describe('A named member of the enclave.'),
  [
    {
      rule: 'has(self.user) != has(self.group)',
      message: 'a member is exactly one of user or group',
      check: (m) => (m.user === undefined) !== (m.group === undefined),
    },
  ],
);

const datasetRef = z
  .strictObject({
    name: dnsLabel.describe('Name of an entry in the site\'s dataset catalogue (SiteConfig datasets); mounted at /data/<name> in workspaces and jobs.'),
    readOnly: z
      .boolean()
      .optional()
      .describe('true mounts a dataset the catalogue lets enclaves write (a scratch volume) read-only. The catalogue\'s setting when omitted; an enclave only narrows it, so false never makes a read-only entry writable.'),
  })
  .describe('An approved dataset, named from the site\'s catalogue: Five Safes "safe data". Its kind, zone, source and credentials are the site\'s, never the enclave\'s.');

const resources = z
  .object({
    cpu: quantity('Total CPU the enclave\'s pods may request (ResourceQuota requests.cpu).').default('16'),
    memory: quantity('Total memory the enclave\'s pods may request (ResourceQuota requests.memory).').default('64Gi'),
    storage: quantity('Total storage of the enclave\'s volume claims (ResourceQuota requests.storage).').default('500Gi'),
    gpus: z.int().min(0, { message: 'must be 0 or more' }).max(1024).default(0).describe('Total NVIDIA GPUs across the enclave (ResourceQuota on nvidia.com/gpu); each pod may have at most 8.'),
    gpuProduct: gpuProduct.optional(),
    maxWorkspaces: z.int().min(0).max(500).default(10).describe('Most workspaces the enclave may hold.'),
  })
  .describe('What the enclave may consume.');

const egressRule = z.object({
  cidr: cidr.describe('Destination network; must lie inside a destination the site configuration allows.'),
  ports: z
    .array(
      z.object({
        port: z.int().min(1).max(65535).describe('Destination port.'),
        protocol: z.enum(['TCP', 'UDP']).default('TCP').describe('TCP or UDP.'),
      }),
    )
    .min(1)
    .max(32)
    .describe('Destination ports.'),
  reason: z.string().min(1).max(500).describe('Why the project needs it (shown in the register).'),
});

const network = z
  .object({
    packageMirror: z.boolean().default(true).describe('Allow the site\'s approved package mirror (PyPI, CRAN, conda through the site\'s Nexus).'),
    egress: z.array(egressRule).max(32).default([]).describe('Extra approved destinations; each must be allowed by the site configuration, otherwise the enclave is refused.'),
  })
  .describe('Network access beyond the default deny: Five Safes "safe settings".');

const workspaceResources = z.object({
  cpu: quantity('CPU request and limit.').default('2'),
  memory: quantity('Memory request and limit.').default('8Gi'),
  gpus: podGpus,
  gpuProduct: gpuProduct.optional(),
});

const autoProvision = z
  .object({
    tool: z.enum(TOOLS).default(DEFAULT_TOOL).describe('Tool of each member\'s workspace.'),
    image: z.string().min(1).max(512).optional().describe('Image; the site\'s default image for the tool when omitted.'),
    resources: workspaceResources.prefault({}).describe('Resources of each auto-provisioned workspace.'),
    storage: z.object({ home: quantity('Size of the home volume.').default('20Gi') }).prefault({}).describe('Storage of each auto-provisioned workspace.'),
  })
  .describe('When set, every member who may run workspaces (researcher, lead, data-manager) gets one without asking.');

const workspaces = z
  .object({
    allowedImages: z
      .array(z.string().min(1).max(512))
      .max(64)
      .default([])
      .describe('Image prefixes workspaces may use (e.g. "nexus.uclh.nhs.uk/sde/jupyter:"); the site\'s allowed registries when empty.'),
    idleTimeout: duration('Stop a workspace after this long without activity.').default('12h'),
    autoProvision: autoProvision.optional(),
  })
  .describe('Workspace policy for the enclave.');

const retention = z
  .object({
    homeVolumes: z
      .enum(['Retain', 'Delete'])
      .default('Retain')
      .describe('What happens to workspace home volumes when a workspace or the enclave is deleted: Retain keeps them (default); Delete removes them. Dataset volumes are never deleted.'),
  })
  .describe('Retention of researchers\' home volumes.');

/** Enclave.spec: everything the operator needs to build the sandpit. */
export const enclaveSpec = z.object({
  project,
  site: dnsLabel.describe('The site (trust) this enclave runs at; only that site\'s operator acts on it.'),
  access,
  members: z.array(member).max(500).default([]).describe('Named members and their roles.'),
  data: z
    .array(datasetRef)
    .max(64)
    .superRefine(unique((d) => d.name))
    .default([])
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })
    .describe('Approved datasets, each an entry of the site\'s dataset catalogue; names are unique.'),
  resources: resources.prefault({}),
  network: network.prefault({}),
  workspaces: workspaces.prefault({}),
  retention: retention.prefault({}),
});

const accessRecord = z.object({
  until: timestamp('End of access this entry granted.'),
  approvedBy: z.string().optional().describe('Who approved it.'),
  justification: z.string().optional().describe('Why (extensions).'),
  recordedBy: z.string().optional().describe('The user whose request made the change, as the API server authenticated them.'),
  recordedAt: timestamp('When the operator recorded it.').optional(),
});

/** Enclave.status, written by the operator only. */
export const enclaveStatus = z.object({
  phase: z.enum(['Pending', 'Provisioning', 'Ready', 'Expired', 'Failed']).optional().describe('Summary for the printer column.'),
  namespace: z.string().optional().describe('The namespace (sandpit) that holds the enclave.'),
  observedGeneration: z.int().nonnegative().optional().describe('The metadata.generation the status reflects.'),
  effectiveExpiresAt: timestamp('End of access in force: the latest of expiresAt and every extension, never past the latest end recorded in accessHistory.').optional(),
  accessHistory: z.array(accessRecord).optional().describe('The original approval and each extension, in the order recorded; only ever appended to.'),
  workspaces: z.int().nonnegative().optional().describe('Workspaces in the enclave.'),
  conditions: conditions.optional(),
});

/** Enclave names become namespace names with the NAMESPACE_PREFIX, so they are four characters shorter than a label. */
export const NAMESPACE_PREFIX = 'sde-';
export const ENCLAVE_NAME_MAX = 63 - NAMESPACE_PREFIX.length;

export const enclave = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Enclave'),
  metadata: objectMeta.extend({
    name: dnsLabel.max(ENCLAVE_NAME_MAX, { message: `must be at most ${ENCLAVE_NAME_MAX} characters: the enclave's namespace is "${NAMESPACE_PREFIX}<name>"` }),
  }),
  spec: enclaveSpec,
  status: enclaveStatus.optional(),
});

export type EnclaveSpec = z.output<typeof enclaveSpec>;
export type EnclaveStatus = z.output<typeof enclaveStatus>;
export type Enclave = z.output<typeof enclave>;
export type Member = EnclaveSpec['members'][number];

/** The namespace (sandpit) that holds an enclave. */
export function enclaveNamespace(enclaveName: string): string {
  return `${NAMESPACE_PREFIX}${enclaveName}`;
}

