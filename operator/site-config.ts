// Loading the site configuration file the operator runs with (--site-config).
import { readFileSync } from 'node:fs';
import { siteConfig } from '../api/siteconfig.ts';
import type { SiteConfig } from '../api/siteconfig.ts';
import { formatProblem, parseDocuments, problemsFromIssues } from '../api/problems.ts';

/** The site configuration file is missing, unreadable or invalid; the message names each field. */
export class SiteConfigError extends Error {
  override readonly name = 'SiteConfigError';
}

/** Reads and validates a SiteConfig file; throws SiteConfigError naming the file and the fields at fault. */
export function loadSiteConfig(path: string): SiteConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SiteConfigError(`expected a readable site configuration at ${path}: ${(err as Error).message}`);
  }
  const { documents, problems } = parseDocuments(text, path);
  const doc = documents.find((d) => (d.content as { kind?: unknown }).kind === 'SiteConfig');
  if (problems.length > 0 || doc === undefined) {
    throw new SiteConfigError(problems.length > 0 ? problems.map(formatProblem).join('\n') : `expected a document with kind: SiteConfig in ${path}, but found none`);
  }
  const parsed = siteConfig.safeParse(doc.content);
  if (!parsed.success) {
    throw new SiteConfigError(problemsFromIssues(parsed.error.issues, { source: path, index: doc.index, kind: 'SiteConfig' }).map(formatProblem).join('\n'));
  }
  return parsed.data;
}
