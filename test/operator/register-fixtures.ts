// What the register's operator tests share: enclaves of this site with members (users and a
// group) whose names must never be published, the operator's namespace, and reading the register.
import type { KubernetesObject } from '@kubernetes/client-node';
import { example, exampleSite } from './harness.ts';

/** The operator's own namespace in these tests, as an installation has it. */
export const REGISTER_NAMESPACE = 'sde-system';

type EnclaveDoc = KubernetesObject & { spec: { project: Record<string, unknown>; access: Record<string, unknown>; members: Array<Record<string, string>> } };

const DAY = 86_400_000;
/** An ISO time `days` from now (negative: in the past). */
export const daysFromNow = (days: number): string => new Date(Date.now() + days * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The example enclave as `name`, for project `projectId`, with `access` and one group member besides the example's users. */
export function registerEnclave(name: string, projectId: string, title: string, access: Record<string, unknown>): EnclaveDoc {
  const doc = structuredClone(example('enclave-cardiac-mri.yaml')[0]) as EnclaveDoc;
  doc.metadata = { name };
  doc.spec.project = { ...doc.spec.project, id: projectId, title };
  doc.spec.access = { extensions: [], ...access };
  doc.spec.members = [...doc.spec.members, { group: 'cardiac-imaging-team', role: 'researcher' }];
  return doc;
}

/** Every member identity the specs and the site name: users, groups and the groups' users. */
export function memberIdentities(enclaves: readonly EnclaveDoc[]): string[] {
  const named = enclaves.flatMap((e) => e.spec.members.map((m) => m.user ?? m.group ?? ''));
  const grouped = Object.entries(exampleSite.groups ?? {}).flatMap(([group, users]) => [group, ...users]);
  return [...new Set([...named, ...grouped])].filter((identity) => identity !== '');
}

/** One published project, as the JSON has it. */
export interface PublishedProject {
  projectId: string;
  status: string;
  endsAt: string;
  closedAt: string | null;
  extensions: Array<{ until: string; justification: string; approvedBy: string }>;
}

/** The register's JSON from the listener at `base`. */
export async function publishedProjects(base: string): Promise<PublishedProject[]> {
  const response = await fetch(`${base}/register.json`);
  if (response.status !== 200) throw new Error(`expected 200 from ${base}/register.json, found ${response.status}`);
  return ((await response.json()) as { projects: PublishedProject[] }).projects;
}
