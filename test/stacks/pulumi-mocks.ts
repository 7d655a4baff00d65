// Pulumi's unit-test mocks, plus a record of what the program asked the engine for: every
// registered resource with its inputs and its dependencies (dependsOn), so tests can assert on
// both without a Pulumi CLI or Kubernetes provider.
import { readFileSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import * as pulumi from '@pulumi/pulumi';
import { parse } from 'yaml';

/** One resource registration as the engine would have received it. */
export interface Registration {
  type: string;
  name: string;
  custom: boolean;
  inputs: Record<string, unknown>;
  urn: string;
  /** URNs this resource was declared to depend on. */
  dependencies: string[];
  /** Reference (`urn::id`) of the provider the resource was declared with; empty for the default provider. */
  provider: string;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getCustom(): boolean;
  getDependenciesList(): string[];
  getProvider(): string;
}
interface RegisterResponse {
  getUrn(): string;
}
type Callback = (err: unknown, response?: RegisterResponse) => void;
interface MockMonitor {
  registerResource(req: RegisterRequest, callback: Callback): Promise<void>;
}

/** The engine as tests see it: what was registered, and a way to wait for the program to finish declaring. */
export interface RecordingEngine {
  readonly registrations: Registration[];
  /** Resolves once no registration is in flight (the program has declared everything). */
  settled(): Promise<void>;
  clear(): void;
  byName(name: string): Registration;
}

// What the tls provider would compute, which mocks must make up: a placeholder per output naming
// the resource that made it, so a test can follow each PEM to where it was used. No key or
// certificate is made, so the mocks show the wiring, never that the certificates are valid.
const TLS_OUTPUTS: Readonly<Record<string, (name: string) => Record<string, string>>> = {
  'tls:index/privateKey:PrivateKey': (name) => ({ privateKeyPem: `FAKE PRIVATE KEY PEM of PrivateKey ${name}` }),
  'tls:index/selfSignedCert:SelfSignedCert': (name) => ({ certPem: `FAKE CERTIFICATE PEM of SelfSignedCert ${name}` }),
  'tls:index/certRequest:CertRequest': (name) => ({ certRequestPem: `FAKE CERTIFICATE REQUEST PEM of CertRequest ${name}` }),
  'tls:index/locallySignedCert:LocallySignedCert': (name) => ({ certPem: `FAKE CERTIFICATE PEM of LocallySignedCert ${name}` }),
};

/** Installs Pulumi's mocks (stack "test") and records every registration. Call once per test file. */
export async function recordingEngine(): Promise<RecordingEngine> {
  const inputs = new Map<string, Record<string, unknown>>();
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        inputs.set(`${args.type}::${args.name}`, args.inputs as Record<string, unknown>);
        return { id: `${args.name}-id`, state: { ...args.inputs, ...TLS_OUTPUTS[args.type]?.(args.name) } };
      },
      call: (args) => args.inputs,
    },
    'sde-site',
    'test',
    false,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitor;
  const registrations: Registration[] = [];
  let inFlight = 0;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    inFlight += 1;
    return register(req, (err, response) => {
      inFlight -= 1;
      if (response !== undefined) {
        registrations.push({
          type: req.getType(),
          name: req.getName(),
          custom: req.getCustom(),
          inputs: inputs.get(`${req.getType()}::${req.getName()}`) ?? {},
          urn: response.getUrn(),
          dependencies: req.getDependenciesList(),
          provider: req.getProvider(),
        });
      }
      callback(err, response);
    });
  };
  return {
    registrations,
    async settled() {
      // Registrations start on later turns of the event loop (inputs resolve first): wait for quiet.
      for (let quiet = 0; quiet < 20; ) {
        await nextTurn();
        quiet = inFlight === 0 ? quiet + 1 : 0;
      }
    },
    clear() {
      registrations.length = 0;
    },
    byName(name) {
      const found = registrations.find((r) => r.name === name);
      if (found === undefined) throw new Error(`expected a resource named "${name}", found ${registrations.map((r) => r.name).join(', ')}`);
      return found;
    },
  };
}

/**
 * The config of a Pulumi.<stack>.yaml as the Pulumi CLI hands it to the program: `ns:key` to a
 * string, structured values as JSON.
 */
export function stackConfigFile(path: string | URL): Record<string, string> {
  const file = parse(readFileSync(path, 'utf8')) as { config: Record<string, unknown> };
  return Object.fromEntries(Object.entries(file.config).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}
