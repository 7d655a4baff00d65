// The public data use register (Five Safes "safe projects"): what each current enclave at this
// site is for, which data it may use and for how long. It never names members.
import { effectiveExpiry } from '../../api/enclave.ts';
import type { Enclave } from '../../api/enclave.ts';

/** One published row of the register. */
export interface RegisterEntry {
  projectId: string;
  title: string;
  organisation: string;
  purpose: string;
  approvedBy: string;
  site: string;
  datasets: { name: string; kind: string; zone: string }[];
  validFrom: string | null;
  expiresAt: string;
  extensions: { until: string; justification: string; approvedBy: string }[];
  status: string;
}

/** The register rows for the enclaves of one site, ordered by project id; personal data is left out by construction. */
export function registerEntries(enclaves: readonly Enclave[], site: string): RegisterEntry[] {
  return enclaves
    .filter((e) => e.spec.site === site)
    .map((e) => ({
      projectId: e.spec.project.id,
      title: e.spec.project.title,
      organisation: e.spec.project.organisation,
      purpose: e.spec.project.purpose,
      approvedBy: e.spec.project.approvedBy,
      site: e.spec.site,
      datasets: e.spec.data.map((d) => ({ name: d.name, kind: d.kind, zone: d.zone })),
      validFrom: e.spec.access.validFrom ?? null,
      expiresAt: effectiveExpiry(e.spec).toISOString(),
      extensions: e.spec.access.extensions.map((x) => ({ until: x.until, justification: x.justification, approvedBy: x.approvedBy })),
      status: e.status?.phase ?? 'Pending',
    }))
    .sort((a, b) => a.projectId.localeCompare(b.projectId));
}

const CSV_COLUMNS = ['projectId', 'title', 'organisation', 'purpose', 'approvedBy', 'site', 'datasets', 'validFrom', 'expiresAt', 'extensions', 'status'] as const;

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The register as RFC 4180 CSV with a header row; datasets and extensions are `;`-separated in one cell. */
export function registerCsv(entries: readonly RegisterEntry[]): string {
  const rows = entries.map((e) =>
    CSV_COLUMNS.map((c) => {
      if (c === 'datasets') return e.datasets.map((d) => `${d.name} (${d.kind}, ${d.zone})`).join('; ');
      if (c === 'extensions') return e.extensions.map((x) => `until ${x.until} approved by ${x.approvedBy}: ${x.justification}`).join('; ');
      return e[c] ?? '';
    }).map(csvCell).join(','),
  );
  return [CSV_COLUMNS.join(','), ...rows].join('\r\n') + '\r\n';
}
