// The register as a plain web page for the public: one semantic table (a caption, column and row
// headers with scope), the page's language declared, no script, and readable with its small
// style sheet switched off. Every text from a spec is escaped.
import { createHash } from 'node:crypto';
import type { PublishedRegister, RegisterEntry, RegisterStatus } from './publish.ts';

const STYLE = [
  'body{font-family:system-ui,sans-serif;line-height:1.5;margin:1rem;color:#0b0c0c;background:#fff}',
  'table{border-collapse:collapse}',
  'caption{text-align:left;font-weight:bold;padding:.5rem 0}',
  'th,td{border:1px solid #505a5f;padding:.5rem;text-align:left;vertical-align:top}',
  'thead th{background:#f3f2f1}',
  'ul{margin:0;padding-left:1.2rem}',
].join('');

/** The Content-Security-Policy the page is served with: nothing runs or loads, only its own style sheet applies. */
export const REGISTER_PAGE_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/** How each status reads on the page. */
export const STATUS_TEXT: Readonly<Record<RegisterStatus, string>> = Object.freeze({
  'not-started': 'Approved, not yet started',
  active: 'Active',
  ended: 'Ended',
  closed: 'Closed before its end',
});

const COLUMNS = ['Project', 'Title', 'Organisation', 'Purpose', 'Approved by', 'Datasets', 'Access period', 'Extensions', 'Status'] as const;

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const dateFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeZone: 'UTC' });
const dateTimeFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });

function time(iso: string, format = dateFormat): string {
  return `<time datetime="${escape(iso)}">${escape(format.format(new Date(iso)))}</time>`;
}

function list(items: readonly string[]): string {
  return `<ul>${items.map((item) => `<li>${item}</li>`).join('')}</ul>`;
}

function period(e: RegisterEntry): string {
  const from = e.validFrom === null ? 'From approval' : `From ${time(e.validFrom)}`;
  const first = e.endsAt === new Date(e.expiresAt).toISOString() ? '' : ` (first approved to ${time(e.expiresAt)})`;
  return `${from} to ${time(e.endsAt)}${first}`;
}

function extensions(e: RegisterEntry): string {
  const granted = e.extensions.map((x) => `To ${time(x.until)}, approved by ${escape(x.approvedBy)}: ${escape(x.justification)}`);
  const withdrawn = e.withdrawnExtensions.map((x) => `To ${time(x.until)}, approved by ${escape(x.approvedBy)}: ${escape(x.justification)}`);
  const parts = [granted.length > 0 ? list(granted) : 'None'];
  if (withdrawn.length > 0) parts.push(`<p>Withdrawn since:</p>${list(withdrawn)}`);
  return parts.join('');
}

function status(e: RegisterEntry): string {
  const text = escape(STATUS_TEXT[e.status]);
  return e.closedAt === null ? text : `${text}; environment removed on ${time(e.closedAt)}`;
}

function row(e: RegisterEntry): string {
  const cells = [
    escape(e.title),
    escape(e.organisation),
    escape(e.purpose),
    escape(e.approvedBy),
    e.datasets.length > 0 ? list(e.datasets.map(escape)) : 'None',
    period(e),
    extensions(e),
    status(e),
  ];
  return `<tr><th scope="row">${escape(e.projectId)}</th>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
}

/** The register as a complete HTML document (British English), links to its CSV and JSON beside it. */
export function registerHtml(register: PublishedRegister): string {
  const name = escape(register.displayName);
  const count = register.projects.length;
  const body =
    count > 0 ? register.projects.map(row).join('\n') : `<tr><td colspan="${COLUMNS.length}">No project has been approved at this site yet.</td></tr>`;
  return `<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Data use register: ${name}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>Data use register: ${name}</h1>
<p>Every project approved to use data in this Secure Data Environment, while it runs and after it has ended. Data never leaves the environment. The people working on a project are not named here.</p>
<p>Also as <a href="register.csv">CSV</a> and <a href="register.json">JSON</a>.</p>
<table>
<caption>Projects approved at ${name}, as of ${time(register.generatedAt, dateTimeFormat)} UTC (${count} ${count === 1 ? 'project' : 'projects'})</caption>
<thead>
<tr>${COLUMNS.map((c) => `<th scope="col">${c}</th>`).join('')}</tr>
</thead>
<tbody>
${body}
</tbody>
</table>
</main>
</body>
</html>
`;
}
