// The security context every enclave pod runs with: Pod Security Admission `restricted`.
import type { V1PodSecurityContext, V1SecurityContext } from '@kubernetes/client-node';

/** The unprivileged user the tool images run as (jovyan, rstudio and coder are all uid 1000). */
export const RESEARCHER_UID = 1000;
/** The `users` group the tool images share; the home volume is owned by it. */
export const RESEARCHER_GID = 100;

/** Pod-level security context satisfying PSA `restricted`: non-root, fixed uid/gid, seccomp RuntimeDefault. */
export function restrictedPodSecurity(): V1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: RESEARCHER_UID,
    runAsGroup: RESEARCHER_GID,
    fsGroup: RESEARCHER_GID,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/**
 * Container-level security context satisfying PSA `restricted`. The root filesystem stays
 * writable because notebook, RStudio and code-server images write to /tmp, ~/.cache and their
 * package libraries at run time; nothing there outlives the pod and the user is never root.
 */
export function restrictedContainerSecurity(): V1SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: RESEARCHER_UID,
    runAsGroup: RESEARCHER_GID,
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}
