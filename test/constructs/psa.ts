// The Pod Security Standards "restricted" profile (baseline checks included) as a function:
// what the API server's Pod Security Admission would refuse in an enclave namespace.
import type { V1Container, V1PodSpec } from '@kubernetes/client-node';

const RESTRICTED_VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
const SAFE_SYSCTLS = ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes'];

/** Every way the pod spec breaks PSA `restricted`; empty when it passes. */
export function restrictedViolations(spec: V1PodSpec): string[] {
  const out: string[] = [];
  const pod = spec.securityContext ?? {};
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) out.push('host namespaces');
  for (const v of spec.volumes ?? []) {
    const types = Object.keys(v).filter((k) => k !== 'name');
    for (const t of types) if (!RESTRICTED_VOLUME_TYPES.includes(t)) out.push(`volume ${v.name} of type ${t}`);
  }
  for (const s of pod.sysctls ?? []) if (!SAFE_SYSCTLS.includes(s.name)) out.push(`sysctl ${s.name}`);
  if (pod.runAsUser === 0) out.push('pod runAsUser 0');
  if (pod.seccompProfile?.type === 'Unconfined') out.push('pod seccomp Unconfined');
  const containers: V1Container[] = [...(spec.initContainers ?? []), ...spec.containers];
  for (const c of containers) {
    const sc = c.securityContext ?? {};
    const where = `container ${c.name}`;
    if (sc.privileged) out.push(`${where} privileged`);
    if (sc.allowPrivilegeEscalation !== false) out.push(`${where} allowPrivilegeEscalation not false`);
    if (!(sc.runAsNonRoot ?? pod.runAsNonRoot)) out.push(`${where} runAsNonRoot not true`);
    if (sc.runAsUser === 0) out.push(`${where} runAsUser 0`);
    const seccomp = sc.seccompProfile?.type ?? pod.seccompProfile?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') out.push(`${where} seccomp ${seccomp ?? 'unset'}`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) out.push(`${where} does not drop ALL capabilities`);
    for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') out.push(`${where} adds capability ${cap}`);
    if (sc.procMount !== undefined && sc.procMount !== 'Default') out.push(`${where} procMount ${sc.procMount}`);
    if (sc.seLinuxOptions?.user !== undefined || sc.seLinuxOptions?.role !== undefined) out.push(`${where} SELinux user or role`);
    for (const p of c.ports ?? []) if (p.hostPort) out.push(`${where} hostPort ${p.hostPort}`);
  }
  return out;
}
