// Reading manifest files (one or many YAML documents, files or folders) for the command line.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocuments } from '../api/problems.ts';
import type { Problem, SourceDocument } from '../api/problems.ts';

/**
 * Lists the YAML files of each path, sorted for a stable order: a file as given, a folder's
 * *.yaml/*.yml files, and its sub-folders too only when recursive (as `kubectl apply -f` does).
 */
export function manifestFiles(paths: string[], recursive = false): string[] {
  const files: string[] = [];
  const visit = (p: string, top: boolean): void => {
    if (statSync(p).isDirectory()) {
      if (!top && !recursive) return;
      for (const entry of readdirSync(p).sort()) visit(join(p, entry), false);
    } else if (top || /\.ya?ml$/.test(p)) {
      files.push(p);
    }
  };
  for (const p of paths) visit(p, true);
  return files;
}

/** Reads and parses the documents of every manifest file under the given paths. */
export function readManifests(paths: string[], recursive = false): { documents: SourceDocument[]; problems: Problem[] } {
  const documents: SourceDocument[] = [];
  const problems: Problem[] = [];
  for (const file of manifestFiles(paths, recursive)) {
    const parsed = parseDocuments(readFileSync(file, 'utf8'), file);
    documents.push(...parsed.documents);
    problems.push(...parsed.problems);
  }
  return { documents, problems };
}
