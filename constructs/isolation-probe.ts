// The isolation probe: a short-lived Job in an enclave's namespace whose pod the enclave's
// NetworkPolicies treat as they treat a workspace's for egress. It tries what should be open (the
// enclave's named destinations) and what should be closed (the site's canary, a neighbour
// enclave's pod), and reports by exit code and termination message.
import { createHash } from 'node:crypto';
import { enclaveNamespace } from '../api/enclave.ts';
import type { Enclave } from '../api/enclave.ts';
import { parseCidr } from '../api/cidr.ts';
import { durationMs } from '../api/duration.ts';
import type { Destination, SiteConfig } from '../api/siteconfig.ts';
import { placement } from './gpu.ts';
import type { ComputeRequest } from './gpu.ts';
import { APP_NAME, COMPONENT, enclaveLabels } from './labels.ts';
import { approvedEgress, datasetServices } from './network.ts';
import { PlainApiObject, ownerReferences, synthesize } from './objects.ts';
import type { KubeObject } from './objects.ts';
import { enclavePodSpec } from './pod.ts';

/** The `app.kubernetes.io/component` (and name) of probe Jobs and their pods. */
export const PROBE_COMPONENT = 'isolation-probe';
/** Annotation on a probe Job: the start of the period it probes, as an RFC 3339 time. */
export const PROBE_RUN_ANNOTATION = 'sde.london/probe-run';
/** The probe pod's only container. */
export const PROBE_CONTAINER = 'probe';

/**
 * The probe's exit codes. 0: every check as expected. {@link PROBE_EXIT_BASE} plus the sum of
 * the failures' bits: 9 an allowed destination unreachable, 10 the canary reachable, 12 a
 * neighbour reachable, and their sums (11, 13, 14, 15) when several fail at once. 3: no `nc` in
 * the image. Any other code (a shell's 1, 126 or 127, 137 when killed) is no verdict.
 */
export const PROBE_EXIT_BASE = 8;
export const PROBE_FAILURE_BITS = { allowed: 1, canary: 2, neighbour: 4 } as const;
export const PROBE_EXIT_NO_NC = 3;

/** What a check tries: a named destination the enclave may reach, the canary, or a neighbour's pod. */
export type ProbeRole = keyof typeof PROBE_FAILURE_BITS;

/** One connection the probe tries, and whether it should open. */
export interface ProbeCheck {
  role: ProbeRole;
  expect: 'open' | 'closed';
  /** What the address is, for the report: `dataset-service/omop-cdm`, `package-mirror/nexus`, `canary`. */
  name: string;
  host: string;
  port: number;
}

/** A neighbour enclave's running workspace pod, by address and the port its tool listens on. */
export interface ProbeNeighbour {
  ip: string;
  port: number;
}

/** One probe run of one enclave: the start of the period it probes, and a neighbour's pod if one runs. */
export interface ProbeRun {
  period: Date;
  neighbour?: ProbeNeighbour | undefined;
}

/**
 * The probe's POSIX shell script. Its arguments are the checks, five words each (role, expected
 * state, name, host, port), so no site value is ever parsed as shell. Each check is one
 * `nc -z -w 3`; every result is one line in `$PROBE_REPORT` (`PASS|FAIL role name host:port
 * expected-open|closed`), and the exit code sums the failed roles' bits (see {@link PROBE_EXIT_BASE}).
 */
export const PROBE_SCRIPT = `set -u
if ! command -v nc >/dev/null 2>&1; then echo "ERROR no nc in the probe image" > "$PROBE_REPORT"; exit ${PROBE_EXIT_NO_NC}; fi
failed=0
report=''
while [ "$#" -ge 5 ]; do
  if nc -z -w 3 "$4" "$5" >/dev/null 2>&1; then got=open; else got=closed; fi
  if [ "$got" = "$2" ]; then verdict=PASS; else
    verdict=FAIL
    case "$1" in allowed) bit=${PROBE_FAILURE_BITS.allowed} ;; canary) bit=${PROBE_FAILURE_BITS.canary} ;; *) bit=${PROBE_FAILURE_BITS.neighbour} ;; esac
    failed=$((failed | bit))
  fi
  report="$report$verdict $1 $3 $4:$5 expected-$2
"
  shift 5
done
printf '%s' "$report" > "$PROBE_REPORT"
if [ "$failed" -eq 0 ]; then exit 0; fi
exit $((${PROBE_EXIT_BASE} + failed))
`;

// Enough for a few nc calls; well inside any enclave's quota (a workspace asks for far more).
const PROBE_COMPUTE: ComputeRequest = { cpu: '50m', memory: '32Mi', gpus: 0 };
const SECONDS_PER_CHECK = 4;
const DEADLINE_SLACK_SECONDS = 60;

/**
 * The address the probe connects to for a destination: the address itself for a /32 (what the
 * policy opens, with no name to resolve), else the host name the site gives, else the first
 * address after the block's network address.
 */
function destinationHost(d: Pick<Destination, 'cidr' | 'host'>): string {
  const block = parseCidr(d.cidr);
  if (block.prefix < 32 && d.host !== undefined) return d.host;
  const address = block.prefix >= 31 ? block.base : block.base + 1;
  return [24, 16, 8, 0].map((s) => Math.floor(address / 2 ** s) % 256).join('.');
}

function tcpChecks(role: 'allowed', name: string, d: Pick<Destination, 'cidr' | 'host' | 'ports'>): ProbeCheck[] {
  // nc -z tells an open TCP port from a closed one; for UDP it cannot, so UDP ports are not tried.
  return d.ports.filter((p) => p.protocol !== 'UDP').map((p) => ({ role, expect: 'open', name, host: destinationHost(d), port: p.port }));
}

/**
 * The checks of one probe run, in a fixed order: every named destination the enclave's workspace
 * pods may reach over TCP (its datasets' services, the package mirrors when allowed, approved
 * extra egress), expected open; the site's canary, expected closed; the neighbour, if any,
 * expected closed. DNS is left out: its peers are pods selected by label, not addresses.
 */
export function probeChecks(enclave: Enclave, site: SiteConfig, neighbour?: ProbeNeighbour): ProbeCheck[] {
  const probes = site.isolation.probes;
  const checks: ProbeCheck[] = [];
  for (const s of datasetServices(enclave, site)) checks.push(...tcpChecks('allowed', `dataset-service/${s.name}`, s));
  if (enclave.spec.network.packageMirror) for (const m of site.packageMirrors) checks.push(...tcpChecks('allowed', `package-mirror/${m.name}`, m));
  for (const e of approvedEgress(enclave, site)) checks.push(...tcpChecks('allowed', `approved-egress/${e.cidr}`, e));
  if (probes !== undefined) checks.push({ role: 'canary', expect: 'closed', name: 'canary', host: probes.canary.ip, port: probes.canary.port });
  if (neighbour !== undefined) checks.push({ role: 'neighbour', expect: 'closed', name: 'neighbour-pod', host: neighbour.ip, port: neighbour.port });
  return checks;
}

/** The probe script's arguments for `checks`, five words each. */
export function probeArgs(checks: readonly ProbeCheck[]): string[] {
  return checks.flatMap((c) => [c.role, c.expect, c.name, c.host, String(c.port)]);
}

/** The checks a probe Job runs, read back from its container's arguments; empty when they are not five words each. */
export function checksOfArgs(args: readonly string[]): ProbeCheck[] {
  if (args.length % 5 !== 0) return [];
  const checks: ProbeCheck[] = [];
  for (let i = 0; i < args.length; i += 5) {
    const [role, expect, name, host, port] = args.slice(i, i + 5) as [string, string, string, string, string];
    if (!(role in PROBE_FAILURE_BITS) || (expect !== 'open' && expect !== 'closed')) return [];
    checks.push({ role: role as ProbeRole, expect, name, host, port: Number(port) });
  }
  return checks;
}

/** The probe Job's name for the run of the period starting at `period`: the same for one period, another for the next. */
export function probeJobName(period: Date): string {
  return `${PROBE_COMPONENT}-${createHash('sha256').update(period.toISOString()).digest('hex').slice(0, 10)}`;
}

/** The labels of every probe Job of `enclave` and of its pods. */
export function probeLabels(enclave: Enclave): Record<string, string> {
  return { ...enclaveLabels(enclave), [APP_NAME]: PROBE_COMPONENT, [COMPONENT]: PROBE_COMPONENT };
}

/**
 * Renders the probe Job of one run, or nothing when the site has probes off. Its pod carries the
 * enclave's labels and no federated-job label, so every egress policy of the enclave selects it as
 * it selects a workspace pod (constructs/network.ts); it is not labelled a workspace, so the
 * gateway cannot reach it and nothing counts it as one. It runs under PSA `restricted` with no
 * service-account token, asks for little, runs once (`backoffLimit: 0`), is stopped after its
 * deadline, and Kubernetes deletes it two probe periods after it finished if the operator has not.
 */
export function renderIsolationProbe(enclave: Enclave, site: SiteConfig, run: ProbeRun): KubeObject[] {
  const probes = site.isolation.probes;
  if (probes === undefined) return [];
  const checks = probeChecks(enclave, site, run.neighbour);
  const labels = probeLabels(enclave);
  return synthesize((chart) => {
    new PlainApiObject(chart, 'isolation-probe', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: probeJobName(run.period),
        namespace: enclaveNamespace(enclave.metadata.name),
        labels,
        annotations: { [PROBE_RUN_ANNOTATION]: run.period.toISOString() },
        ownerReferences: ownerReferences(enclave),
      },
      spec: {
        backoffLimit: 0,
        activeDeadlineSeconds: DEADLINE_SLACK_SECONDS + SECONDS_PER_CHECK * checks.length,
        ttlSecondsAfterFinished: Math.ceil((2 * durationMs(probes.period)) / 1000),
        template: {
          metadata: { labels, ...(Object.keys(probes.podAnnotations).length > 0 ? { annotations: { ...probes.podAnnotations } } : {}) },
          spec: enclavePodSpec({
            containerName: PROBE_CONTAINER,
            image: probes.image,
            command: ['/bin/sh', '-c', PROBE_SCRIPT, PROBE_COMPONENT],
            args: probeArgs(checks),
            ports: [],
            env: [{ name: 'PROBE_REPORT', value: '/dev/termination-log' }],
            volumes: [],
            mounts: [],
            datasets: { volumes: [], mounts: [], env: [] },
            placement: placement(PROBE_COMPUTE, site),
            restartPolicy: 'Never',
          }),
        },
      },
    });
  });
}
