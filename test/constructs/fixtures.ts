// The shipped examples, parsed with the API schemas, as the render tests' starting point.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { enclave } from '../../api/enclave.ts';
import type { Enclave } from '../../api/enclave.ts';
import { federatedJob } from '../../api/federatedjob.ts';
import type { FederatedJob } from '../../api/federatedjob.ts';
import { siteConfig } from '../../api/siteconfig.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';
import { workspace } from '../../api/workspace.ts';
import type { Workspace } from '../../api/workspace.ts';
import type { KubeObject } from '../../constructs/objects.ts';

const examples = join(import.meta.dirname, '..', '..', 'examples');
const read = (file: string): unknown => parse(readFileSync(join(examples, file), 'utf8'));

/** UCLH's site configuration. */
export function uclhSite(): SiteConfig {
  return siteConfig.parse(read('site-uclh.yaml'));
}

/** The cardiac MRI enclave, stored (with a uid) unless `stored` is false. */
export function cardiacEnclave(stored = true): Enclave {
  const e = enclave.parse(read('enclave-cardiac-mri.yaml'));
  if (stored) e.metadata.uid = 'enclave-uid-1';
  return e;
}

/** The GPU JupyterLab workspace, stored. */
export function jupyterWorkspace(): Workspace {
  const w = workspace.parse(read('workspace-jupyter-gpu.yaml'));
  w.metadata.uid = 'workspace-uid-1';
  return w;
}

/** The CPU-only RStudio workspace, stored. */
export function rstudioWorkspace(): Workspace {
  const w = workspace.parse(read('workspace-rstudio.yaml'));
  w.metadata.uid = 'workspace-uid-2';
  return w;
}

/** The NVFLARE federated job, stored. */
export function nvflareJob(): FederatedJob {
  const j = federatedJob.parse(read('federatedjob-nvflare.yaml'));
  j.metadata.uid = 'job-uid-1';
  return j;
}

/** Objects of one kind. */
export function ofKind(objects: KubeObject[], kind: string): KubeObject[] {
  return objects.filter((o) => o.kind === kind);
}

/** The one object of a kind and name; fails the test when it is missing. */
export function find(objects: KubeObject[], kind: string, name: string): KubeObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (o === undefined) throw new Error(`expected ${kind} ${name} among ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
}
