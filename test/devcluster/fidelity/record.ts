// Records what a real API server stores for objects.yaml, for the fidelity test to compare the
// devcluster with: `npx node test/devcluster/fidelity/record.ts KUBECONFIG`. Needs a cluster
// where none of the objects exist yet (for example a fresh ../shared/kubernetes).
import { dryRunApply } from './dry-run.ts';
import { recordFromCommandLine } from './recording.ts';

await recordFromCommandLine('record.ts', 'recorded.json', dryRunApply);
