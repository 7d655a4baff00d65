// A devcluster in a process of its own, so the API server and the process under measurement do
// not share a CPU core or a heap. Reads its options as JSON from argv[2]; prints one JSON line
// `{url, kubeconfigPath}` once it serves; stops (saving its data file) on SIGTERM.
import { startDevCluster } from '../../devcluster/index.ts';
import type { DevClusterOptions } from '../../devcluster/index.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as DevClusterOptions;
const cluster = await startDevCluster(options);
process.stdout.write(`${JSON.stringify({ url: cluster.url, kubeconfigPath: cluster.kubeconfigPath })}\n`);
process.once('SIGTERM', () => {
  void cluster.stop().then(() => process.exit(0));
});
