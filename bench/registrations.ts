/**
 * What a program asked the engine to register, in the order it asked: type, name, inputs as the
 * provider receives them, and the parent, provider and dependencies by URN. Recorded once from
 * pyfleet under the mocks, it is what the baseline program replays.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Recorded } from "../test/support/mocks";

/** One registration. */
export interface Registration {
  /** URN the engine gave it. */
  urn: string;
  /** Type token, e.g. `kubernetes:apps/v1:Deployment`. */
  type: string;
  /** Logical name. */
  name: string;
  /** Whether a provider manages it (false for components). */
  custom: boolean;
  /** Inputs as the provider receives them (secrets keep Pulumi's secret wrapper). */
  inputs: Record<string, unknown>;
  /** Parent URN, if any. */
  parent?: string;
  /** Provider reference (`<urn>::<id>`), if one was named. */
  provider?: string;
  /** URNs its inputs depend on. */
  dependencies: string[];
}

/** The slice of a register-resource request read here. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getProvider(): string;
  getDependenciesList(): string[];
}

type Callback = (error: unknown, response?: { getUrn(): string }) => void;

interface Monitor {
  registerResource(request: RegisterRequest, callback: Callback): unknown;
}

/**
 * Starts recording on the mock monitor `installMocks` set up; `recorded` is its list of mock
 * calls, which the monitor makes one for one with the requests seen here.
 */
export function recordRegistrations(recorded: readonly Recorded[]): Registration[] {
  const monitor = pulumi.runtime.getMonitor() as unknown as Monitor | undefined;
  if (!monitor) throw new Error("recordRegistrations: install the mocks first");
  const original = monitor.registerResource.bind(monitor);
  const registrations: Registration[] = [];
  monitor.registerResource = (request, callback) => {
    const index = recorded.length;
    const registration: Registration = {
      urn: "",
      type: request.getType(),
      name: request.getName(),
      custom: request.getCustom(),
      inputs: {},
      dependencies: request.getDependenciesList(),
      ...(request.getParent() ? { parent: request.getParent() } : {}),
      ...(request.getProvider() ? { provider: request.getProvider() } : {}),
    };
    registrations.push(registration);
    return original(request, (error, response) => {
      const mocked = recorded[index];
      if (!mocked || mocked.type !== registration.type || mocked.name !== registration.name) {
        throw new Error(
          `recordRegistrations: lost track of ${registration.type} ${registration.name}`,
        );
      }
      registration.inputs = mocked.inputs;
      registration.urn = response?.getUrn() ?? "";
      callback(error, response);
    });
  };
  return registrations;
}
