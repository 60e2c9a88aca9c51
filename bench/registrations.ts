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
  /**
   * Input paths (`spec.template.spec.containers[0].image`) whose value pyfleet passed as an
   * Output (another resource's property, e.g. an auto-named ServiceAccount's name), which a
   * hand-written program has to pass as an Output too.
   */
  outputInputs?: string[];
  /** A component's registered outputs (`registerOutputs`), as the engine received them. */
  outputs?: Record<string, unknown>;
  /** Which of those outputs the component passed as Outputs (the others were plain values). */
  outputOutputs?: string[];
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
  registerResourceOutputs(
    request: {
      getUrn(): string;
      getOutputs(): { toJavaScript(): Record<string, unknown> } | undefined;
    },
    callback: (error: unknown, response?: unknown) => void,
  ): unknown;
}

/**
 * The SDK awaits every Output input through `debuggablePromise`, labelled
 * `serializeProperty.await(Promise<resource:<name>[<type>].<path>.id>)`; that label is the only
 * place the SDK names the input path, so the recorder reads it there.
 */
const OUTPUT_INPUT_LABEL =
  /^serializeProperty\.await\(Promise<resource:([^[]+)\[([^\]]+)\]\.(.+?)\.id>\)$/;

/** Collects `<type> <name>` -> Output-valued input paths while pyfleet registers. */
function watchOutputInputs(): Map<string, Set<string>> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const debuggable = require("@pulumi/pulumi/runtime/debuggable") as {
    debuggablePromise: (p: Promise<unknown>, label: string) => Promise<unknown>;
  };
  const original = debuggable.debuggablePromise;
  const paths = new Map<string, Set<string>>();
  debuggable.debuggablePromise = (promise, label) => {
    const match = OUTPUT_INPUT_LABEL.exec(String(label));
    if (match && !match[3]!.endsWith(".id")) {
      const key = `${match[2]} ${match[1]}`;
      paths.set(key, (paths.get(key) ?? new Set()).add(match[3]!));
    }
    return original(promise, label);
  };
  return paths;
}

/** Collects `<type> <name>` -> the output keys a component registered as Outputs. */
function watchComponentOutputs(): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  const prototype = pulumi.ComponentResource.prototype as unknown as {
    registerOutputs: (this: unknown, outputs?: Record<string, unknown>) => void;
  };
  const original = prototype.registerOutputs;
  prototype.registerOutputs = function (this: unknown, outputs?: Record<string, unknown>) {
    // The SDK's own fields for a resource's type and name.
    const self = this as { __pulumiType?: string; __name?: string };
    const outputKeys = Object.entries(outputs ?? {})
      .filter(([, value]) => pulumi.Output.isInstance(value))
      .map(([key]) => key);
    if (outputKeys.length > 0) keys.set(`${self.__pulumiType} ${self.__name}`, outputKeys.sort());
    original.call(this, outputs);
  };
  return keys;
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
  const outputInputs = watchOutputInputs();
  const componentOutputs = watchComponentOutputs();
  const originalOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (request, callback) => {
    const registration = registrations.find((r) => r.urn === request.getUrn());
    const outputs = request.getOutputs()?.toJavaScript() ?? {};
    if (registration && Object.keys(outputs).length > 0) {
      registration.outputs = outputs;
      const keys = componentOutputs.get(`${registration.type} ${registration.name}`);
      if (keys) registration.outputOutputs = keys;
    }
    return originalOutputs(request, callback);
  };
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
      const paths = outputInputs.get(`${registration.type} ${registration.name}`);
      if (paths) registration.outputInputs = [...paths].sort();
      callback(error, response);
    });
  };
  return registrations;
}
