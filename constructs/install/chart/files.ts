// The Helm chart (charts/sde-operator) as generated from constructs/install, so it cannot drift
// from what the site stack installs: every template but NOTES.txt (tree.ts, text.ts), values.yaml
// and values.schema.json (values.ts). Chart.yaml, templates/NOTES.txt and ci/ are written by hand.
import { templateText } from './text.ts';
import { chartTemplates } from './tree.ts';
import { chartValuesSchema, valuesText } from './values.ts';

/** Every generated file of charts/sde-operator, by path inside the chart, as `npm run gen:chart` writes it. */
export function chartFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const template of chartTemplates()) files.set(`templates/${template.file}`, templateText(template));
  files.set('values.yaml', valuesText());
  files.set('values.schema.json', `${JSON.stringify(chartValuesSchema(), null, 2)}\n`);
  return files;
}
