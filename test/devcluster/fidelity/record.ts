// Records what a real API server stores for objects.yaml, for the fidelity test to compare the
// devcluster with: `npx node test/devcluster/fidelity/record.ts KUBECONFIG`. Needs a cluster
// where none of the objects exist yet (for example a fresh ../shared/kubernetes).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { dryRunApply } from './dry-run.ts';

const kubeconfigPath = process.argv[2];
if (kubeconfigPath === undefined) {
  console.error('usage: record.ts KUBECONFIG');
  process.exit(2);
}
const kc = new k8s.KubeConfig();
kc.loadFromFile(kubeconfigPath);
const version = await kc.makeApiClient(k8s.VersionApi).getCode();
const answers = await dryRunApply(kubeconfigPath);
const file = join(import.meta.dirname, 'recorded.json');
writeFileSync(file, `${JSON.stringify({ server: version.gitVersion, recordedAt: new Date().toISOString().slice(0, 10), answers }, null, 1)}\n`);
console.log(`${answers.length} answers of ${version.gitVersion} written to ${file}`);
