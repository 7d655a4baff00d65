// Site rules: the cross-object checks the CRD schema cannot make.
export { checkEnclave } from './enclave.ts';
export { checkWorkspace } from './workspace.ts';
export { checkFederatedJob } from './federatedjob.ts';
export { FINDING_REASONS } from './findings.ts';
export type { Finding, FindingReason } from './findings.ts';
