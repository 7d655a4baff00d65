// The public data use register (Five Safes "safe projects"): every project approved at this site,
// what it is for, which datasets it may use and for how long, while it runs and after it has ended
// or its enclave has been deleted. It is made from the persisted records only and never names a member.
import { recordedEnd, type RecordedExtension, type RegisterRecord } from './record.ts';

/** Where a project stands at the time the register is read. */
export const REGISTER_STATUSES = ['not-started', 'active', 'ended', 'closed'] as const;
export type RegisterStatus = (typeof REGISTER_STATUSES)[number];

/** One published project. */
export interface RegisterEntry {
  projectId: string;
  title: string;
  organisation: string;
  purpose: string;
  approvedBy: string;
  site: string;
  datasets: string[];
  /** Start of access, or null when access began on approval. */
  validFrom: string | null;
  /** End of access as first approved. */
  expiresAt: string;
  /** End of access in force: the latest of expiresAt and every extension. */
  endsAt: string;
  extensions: RecordedExtension[];
  /** Extensions once on record that the enclave no longer lists. */
  withdrawnExtensions: RecordedExtension[];
  /** not-started, active, ended; closed when the enclave was deleted before its end. */
  status: RegisterStatus;
  /** When the enclave was deleted, or null while it exists. */
  closedAt: string | null;
}

/** The register as published: the site, when it was read, and its projects. */
export interface PublishedRegister {
  site: string;
  displayName: string;
  generatedAt: string;
  projects: RegisterEntry[];
}

/** Where a record's project stands at `now`: the time is read here, so nothing is written when a period ends. */
export function statusAt(record: RegisterRecord, now: Date): RegisterStatus {
  const end = Date.parse(recordedEnd(record));
  if (record.closedAt !== null && Date.parse(record.closedAt) < end) return 'closed';
  if (now.getTime() >= end) return 'ended';
  if (record.access.validFrom !== null && now.getTime() < Date.parse(record.access.validFrom)) return 'not-started';
  return 'active';
}

/** The published register of `site` at `now`: one entry per record of the site, ordered by project id, then start, then end. */
export function publishRegister(records: readonly RegisterRecord[], site: { site: string; displayName?: string | undefined }, now: Date): PublishedRegister {
  const projects = records
    .filter((r) => r.site === site.site)
    .map((r): RegisterEntry => ({
      projectId: r.project.id,
      title: r.project.title,
      organisation: r.project.organisation,
      purpose: r.project.purpose,
      approvedBy: r.project.approvedBy,
      site: r.site,
      datasets: [...r.datasets],
      validFrom: r.access.validFrom,
      expiresAt: r.access.expiresAt,
      endsAt: recordedEnd(r),
      extensions: r.access.extensions.map((x) => ({ ...x })),
      withdrawnExtensions: r.access.withdrawnExtensions.map((x) => ({ ...x })),
      status: statusAt(r, now),
      closedAt: r.closedAt,
    }))
    .sort((a, b) => a.projectId.localeCompare(b.projectId) || (a.validFrom ?? '').localeCompare(b.validFrom ?? '') || a.endsAt.localeCompare(b.endsAt));
  return { site: site.site, displayName: site.displayName ?? site.site, generatedAt: now.toISOString(), projects };
}
