// Records which changes of updates.yaml a real API server refuses, and how, for the update
// fidelity test to compare the devcluster with: `npx node test/devcluster/fidelity/record-updates.ts
// KUBECONFIG`. Every change is a dry run, so it can run again on the same cluster.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { sendUpdates } from './updates.ts';

const kubeconfigPath = process.argv[2];
if (kubeconfigPath === undefined) {
  console.error('usage: record-updates.ts KUBECONFIG');
  process.exit(2);
}
const kc = new k8s.KubeConfig();
kc.loadFromFile(kubeconfigPath);
const version = await kc.makeApiClient(k8s.VersionApi).getCode();
const answers = await sendUpdates(kubeconfigPath);
const file = join(import.meta.dirname, 'recorded-updates.json');
writeFileSync(file, `${JSON.stringify({ server: version.gitVersion, recordedAt: new Date().toISOString().slice(0, 10), answers }, null, 1)}\n`);
console.log(`${answers.length} answers of ${version.gitVersion} written to ${file}`);
