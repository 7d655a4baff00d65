// The renderer's public surface: the three render functions, their types, and the label contract.
export { renderEnclave } from './enclave.ts';
export type { RenderOptions } from './objects.ts';
export { renderWorkspace } from './workspace.ts';
export { renderFederatedJob } from './federatedjob.ts';
export type { FederatedRenderOptions } from './federatedjob.ts';
export type { KubeObject, OwnerReference } from './objects.ts';
export * from './labels.ts';
