// Workspace: a researcher's JupyterLab, RStudio or VS Code server inside an enclave's namespace.
import { z } from 'zod';
import { DEFAULT_TOOL, TOOLS } from './enclave.ts';
import { API_VERSION, conditions, dnsLabel, gpuProduct, objectMeta, podGpus, quantity, unique } from './meta.ts';
import { duration } from './duration.ts';
import type { SiteConfig } from './siteconfig.ts';

/** Workspace.spec: what the researcher asked for; the operator checks it against the enclave. */
export const workspaceSpec = z.object({
  owner: z.string().min(1).max(253).describe('The researcher it belongs to: a user named as a member of the enclave, with a role that may run workspaces.'),
  tool: z.enum(TOOLS).default(DEFAULT_TOOL).describe('jupyterlab, rstudio or vscode.'),
  image: z.string().min(1).max(512).optional().describe('Container image; must match the enclave\'s allowed images. The site\'s default image for the tool when omitted.'),
  resources: z
    .object({
      cpu: quantity('CPU request and limit.').default('2'),
      memory: quantity('Memory request and limit.').default('8Gi'),
      gpus: podGpus,
      gpuProduct: gpuProduct.optional(),
    })
    .prefault({})
    .describe('Compute for the workspace; GPUs are scheduled on the site\'s DGX A100 pool and count against the enclave\'s quota.'),
  storage: z
    .object({ home: quantity('Size of the home volume, kept when the workspace stops.').default('20Gi') })
    .prefault({})
    .describe('Persistent storage of the workspace.'),
  datasets: z
    .array(dnsLabel)
    .max(64)
    .superRefine(unique((name) => name))
    .optional()
    .meta({ 'x-kubernetes-list-type': 'set' })
    .describe('Names of the enclave\'s datasets to mount read-only at /data/<name>; all of them when omitted.'),
  state: z.enum(['Running', 'Stopped']).default('Running').describe('Stopped scales the workspace to zero and keeps its home volume.'),
  idleTimeout: duration('Stop after this long without activity; the enclave\'s setting when omitted.').optional(),
});

/** Workspace.status, written by the operator only. */
export const workspaceStatus = z.object({
  phase: z.enum(['Pending', 'Starting', 'Running', 'Stopped', 'Suspended', 'Failed']).optional().describe('Summary for the printer column.'),
  observedGeneration: z.int().nonnegative().optional().describe('The metadata.generation the status reflects.'),
  url: z.string().optional().describe('In-cluster URL of the tool, reachable through the site\'s workspace gateway.'),
  node: z.string().optional().describe('Node the workspace runs on.'),
  gpus: z.int().nonnegative().optional().describe('GPUs allocated.'),
  conditions: conditions.optional(),
});

export const workspace = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Workspace'),
  metadata: objectMeta,
  spec: workspaceSpec,
  status: workspaceStatus.optional(),
});

export type WorkspaceSpec = z.output<typeof workspaceSpec>;
export type WorkspaceStatus = z.output<typeof workspaceStatus>;
export type Workspace = z.output<typeof workspace>;

/**
 * The longest workspace name: its StatefulSet's pods are `<name>-0` and the StatefulSet labels
 * revisions `<name>-<10-character hash>`, and both must stay within 63 characters.
 */
export const WORKSPACE_NAME_MAX = 52;

/** The image a workspace runs: its own, else the site's default for its tool. */
export function workspaceImage(ws: Workspace, site: SiteConfig): string {
  return ws.spec.image ?? site.images[ws.spec.tool];
}
