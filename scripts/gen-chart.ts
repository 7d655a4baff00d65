// Writes the generated files of charts/sde-operator (constructs/install/chart/): templates/
// but NOTES.txt, values.yaml and values.schema.json, and removes templates no longer generated.
// A test fails while the checked-in chart differs from what this writes.
//
//   npm run gen:chart
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { chartFiles } from '../constructs/install/chart/files.ts';

const chart = new URL('../charts/sde-operator/', import.meta.url);
const files = chartFiles();
mkdirSync(new URL('templates/', chart), { recursive: true });
for (const file of readdirSync(new URL('templates/', chart))) {
  if (file !== 'NOTES.txt' && !files.has(`templates/${file}`)) rmSync(new URL(`templates/${file}`, chart));
}
for (const [path, text] of files) writeFileSync(new URL(path, chart), text);
console.log(`wrote ${files.size} files of charts/sde-operator`);
