// The Pulumi program's entry point as the Pulumi CLI runs it: config from the stack, then the
// resources. Each import below is a fresh evaluation of stacks/site/index.ts (the query string
// makes a new module instance), as each `pulumi up` is.
import * as pulumi from '@pulumi/pulumi';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { StackConfigError } from '../../stacks/site/config.ts';
import { recordingEngine, stackConfigFile, type RecordingEngine } from './pulumi-mocks.ts';

const STACKS = new URL('../../stacks/site/', import.meta.url);
const program = (run: string): Promise<Record<string, unknown>> => import(/* @vite-ignore */ `../../stacks/site/index.ts?${run}`) as Promise<Record<string, unknown>>;

let engine: RecordingEngine;
beforeAll(async () => {
  engine = await recordingEngine();
});
beforeEach(() => engine.clear());

it('fails a stack whose config is wrong before it registers a single resource', async () => {
  const config = stackConfigFile(new URL('Pulumi.uclh.yaml', STACKS));
  pulumi.runtime.setAllConfig({ ...config, 'sde:gpuPool': JSON.stringify({ totalGpus: 'sixteen' }) });
  await expect(program('bad')).rejects.toThrow(StackConfigError);
  await expect(program('bad')).rejects.toThrow('sde:gpuPool.totalGpus: expected a number');
  await engine.settled();
  expect(engine.registrations).toEqual([]);
});

it('runs the UCLH stack from its Pulumi.uclh.yaml and exports the site\'s outputs', async () => {
  pulumi.runtime.setAllConfig(stackConfigFile(new URL('Pulumi.uclh.yaml', STACKS)));
  const outputs = await program('uclh');
  await engine.settled();
  expect(outputs.site).toBe('uclh');
  expect(outputs.operatorNamespace).toBe('sde-system');
  expect(outputs.gpuProducts).toEqual(['NVIDIA-A100-SXM4-80GB']);
  expect(outputs.registerService).toBe('sde-operator-register.sde-system.svc:80');
  expect(outputs.registerUrl).toBe('https://register.sde.uclh.nhs.uk/');
  expect(outputs.webhookService).toBe('sde-operator-webhook.sde-system.svc:443');
  expect(engine.registrations.map((r) => r.name)).toEqual(expect.arrayContaining(['cluster', 'sde-crds', 'gpu-support', 'dgx-dgx-a100-01', 'dgx-dgx-a100-02', 'sde-operator', 'sde-operator-webhook-tls', 'sde-operator-validating-webhooks', 'sde-operator-mutating-webhooks']));
});
