// The security context of every pod the operator makes (training Jobs, model servers): the Kubernetes "restricted"
// Pod Security Standard, and the uid and gid the images are built with (USER 65532:65532). The ids are set on the
// pod as well, so a runtime never falls back to gid 0 for an image whose USER names no group, and the pod's
// volumes are writable by that group (fsGroup).
export const imageUserId = 65532;

export function restrictedPodSecurityContext(): Record<string, unknown> {
  return {
    runAsNonRoot: true,
    runAsUser: imageUserId,
    runAsGroup: imageUserId,
    fsGroup: imageUserId,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function restrictedContainerSecurityContext(): Record<string, unknown> {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}
