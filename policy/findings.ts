// What a site rule reports: the field at fault, a reason from a closed set, and a message that
// says what was expected and what was found.

/** Every reason a site rule can give; CamelCase, stable, usable as a condition reason and a metric label. */
export const FINDING_REASONS = [
  'SiteMismatch',
  'NamespaceMismatch',
  'GpusAbovePool',
  'GpusAboveEnclave',
  'GpuProductUnavailable',
  'EgressNotAllowed',
  'InvalidCidr',
  'OwnerNotMember',
  'RoleMayNotRunWorkspaces',
  'ImageNotAllowed',
  'UnknownDataset',
  'DatasetNotInCatalogue',
  'DatasetReadOnly',
  'DatasetUnreachable',
  'UnknownAggregator',
  'NameTooLong',
  'NameReserved',
  'SecretNotDeclared',
  'StorageAboveQuota',
] as const;

export type FindingReason = (typeof FINDING_REASONS)[number];

/** One broken site rule: `field` is a path into the object (e.g. spec.network.egress[0].cidr). */
export interface Finding {
  field: string;
  reason: FindingReason;
  message: string;
}
