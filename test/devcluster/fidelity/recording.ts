// The recordings the fidelity tests compare the devcluster with: a real API server's answers to a
// fixed set of requests, with its version and the date, written by a record script and replayed
// by a test against a fresh devcluster.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll } from 'vitest';
import { startDevCluster } from '../../../devcluster/index.ts';
import type { DevCluster } from '../../../devcluster/index.ts';

/** A real server's answers, as a record script wrote them. */
export interface Recording<A> {
  server: string;
  recordedAt: string;
  answers: A[];
}

/** Sends the requests to the cluster a kubeconfig names and resolves to its answers, in order. */
export type Requests<A> = (kubeconfigPath: string) => Promise<A[]>;

/** The recording in `file` of this folder. */
export function readRecording<A>(file: string): Recording<A> {
  return JSON.parse(readFileSync(join(import.meta.dirname, file), 'utf8')) as Recording<A>;
}

/**
 * A record script's body: sends `requests` to the cluster of the kubeconfig named on the command
 * line (`npx node test/devcluster/fidelity/<script> KUBECONFIG`) and writes the answers to `file`.
 */
export async function recordFromCommandLine<A>(script: string, file: string, requests: Requests<A>): Promise<void> {
  const kubeconfigPath = process.argv[2];
  if (kubeconfigPath === undefined) {
    console.error(`usage: ${script} KUBECONFIG`);
    process.exit(2);
  }
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const version = await kc.makeApiClient(k8s.VersionApi).getCode();
  const answers = await requests(kubeconfigPath);
  const recording: Recording<A> = { server: version.gitVersion, recordedAt: new Date().toISOString().slice(0, 10), answers };
  const path = join(import.meta.dirname, file);
  writeFileSync(path, `${JSON.stringify(recording, null, 1)}\n`);
  console.log(`${answers.length} answers of ${version.gitVersion} written to ${path}`);
}

/** In a test file: sends `requests` to a fresh devcluster before the tests (stopped after them); returns the answers' getter. */
export function devclusterAnswers<A>(requests: Requests<A>): () => A[] {
  let dc: DevCluster | undefined;
  let answers: A[] = [];
  beforeAll(async () => {
    dc = await startDevCluster({ events: false });
    answers = await requests(dc.kubeconfigPath);
  });
  afterAll(async () => {
    await dc?.stop();
  });
  return () => answers;
}
