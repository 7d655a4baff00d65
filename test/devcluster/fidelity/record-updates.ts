// Records which changes of updates.yaml a real API server refuses, and how, for the update
// fidelity test to compare the devcluster with: `npx node test/devcluster/fidelity/record-updates.ts
// KUBECONFIG`. Every change is a dry run, so it can run again on the same cluster.
import { recordFromCommandLine } from './recording.ts';
import { sendUpdates } from './updates.ts';

await recordFromCommandLine('record-updates.ts', 'recorded-updates.json', sendUpdates);
