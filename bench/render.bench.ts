// Render speed: one enclave with five workspaces and one federated job, over 1,000 enclaves.
// Prints ms per enclave and peak RSS, and writes bench/results/render.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { enclave as enclaveSchema } from '../api/enclave.ts';
import { federatedJob as federatedJobSchema } from '../api/federatedjob.ts';
import { siteConfig } from '../api/siteconfig.ts';
import { workspace as workspaceSchema } from '../api/workspace.ts';
import { renderEnclave, renderFederatedJob, renderWorkspace } from '../constructs/index.ts';

const here = dirname(fileURLToPath(import.meta.url));
const example = (file: string): Record<string, unknown> => parse(readFileSync(join(here, '..', 'examples', file), 'utf8')) as Record<string, unknown>;
const ENCLAVES = 1000;
const WARMUP = 100;

const site = siteConfig.parse(example('site-uclh.yaml'));
const baseEnclave = example('enclave-cardiac-mri.yaml');
const baseWorkspaces = [example('workspace-jupyter-gpu.yaml'), example('workspace-rstudio.yaml')];
const baseJob = example('federatedjob-nvflare.yaml');

// Distinct names and uids per enclave so nothing is shared between renders but the site.
function inputs(i: number) {
  const name = `project-${i}`;
  const namespace = `sde-${name}`;
  const enclave = enclaveSchema.parse({ ...baseEnclave, metadata: { name, uid: `uid-enclave-${i}` } });
  const workspaces = Array.from({ length: 5 }, (_, k) =>
    workspaceSchema.parse({ ...baseWorkspaces[k % 2], metadata: { name: `ws-${k}`, namespace, uid: `uid-ws-${i}-${k}` } }),
  );
  const job = federatedJobSchema.parse({ ...baseJob, metadata: { name: 'fl-run', namespace, uid: `uid-job-${i}` } });
  return { enclave, workspaces, job };
}

function renderAll(input: ReturnType<typeof inputs>): number {
  let objects = renderEnclave(input.enclave, site, { accessActive: true }).length;
  for (const ws of input.workspaces) objects += renderWorkspace(ws, input.enclave, site, { accessActive: true }).length;
  objects += renderFederatedJob(input.job, input.enclave, site, { accessActive: true, thisSite: 'uclh' }).length;
  return objects;
}

const all = Array.from({ length: ENCLAVES }, (_, i) => inputs(i));
for (let i = 0; i < WARMUP; i++) renderAll(all[i % ENCLAVES]!);
globalThis.gc?.();

// CPU time as well as wall time: on a shared CI machine the CPU figure is the steadier one.
let objects = 0;
const cpuStart = process.cpuUsage();
const start = performance.now();
for (const input of all) objects += renderAll(input);
const elapsed = performance.now() - start;
const cpu = process.cpuUsage(cpuStart);
const cpuMs = (cpu.user + cpu.system) / 1000;

const result = {
  enclaves: ENCLAVES,
  workspacesPerEnclave: 5,
  federatedJobsPerEnclave: 1,
  objectsPerEnclave: objects / ENCLAVES,
  msPerEnclave: Number((elapsed / ENCLAVES).toFixed(3)),
  cpuMsPerEnclave: Number((cpuMs / ENCLAVES).toFixed(3)),
  totalMs: Number(elapsed.toFixed(1)),
  peakRssMB: Number((process.resourceUsage().maxRSS / 1024).toFixed(1)),
  node: process.version,
};
console.log(`render: ${result.msPerEnclave} ms per enclave (CPU ${result.cpuMsPerEnclave} ms; ${result.objectsPerEnclave} objects: enclave + 5 workspaces + 1 federated job), ${ENCLAVES} enclaves in ${result.totalMs} ms, peak RSS ${result.peakRssMB} MB`);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'render.json'), `${JSON.stringify(result, null, 2)}\n`);
