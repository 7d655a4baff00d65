// The register as CSV, for spreadsheets and anyone who collects registers.
import type { RegisterEntry } from './publish.ts';

const COLUMNS = ['projectId', 'title', 'organisation', 'purpose', 'approvedBy', 'site', 'datasets', 'validFrom', 'expiresAt', 'endsAt', 'extensions', 'withdrawnExtensions', 'status', 'closedAt'] as const;

// A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection"):
// such a cell is published with a leading apostrophe, which spreadsheets show as text.
const FORMULA_START = /^[=+\-@\t\r]/;

function cell(value: string): string {
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function extensionsText(extensions: RegisterEntry['extensions']): string {
  return extensions.map((x) => `until ${x.until} approved by ${x.approvedBy}: ${x.justification}`).join('; ');
}

/** The register as RFC 4180 CSV with a header row and CRLF line ends; datasets and extensions are `; `-separated in one cell each. */
export function registerCsv(entries: readonly RegisterEntry[]): string {
  const rows = entries.map((e) =>
    COLUMNS.map((column) => {
      if (column === 'datasets') return e.datasets.join('; ');
      if (column === 'extensions' || column === 'withdrawnExtensions') return extensionsText(e[column]);
      return e[column] ?? '';
    })
      .map(cell)
      .join(','),
  );
  return [COLUMNS.join(','), ...rows].join('\r\n') + '\r\n';
}
