/**
 * Kubernetes' own field rules, applied to the plain objects the program would send: the names
 * the API server validates (DNS-1123 labels and subdomains, label values, port names), port
 * ranges, and the uniqueness of volume names, mount paths, container ports and Service ports.
 * A value can pass every setting's own check and still break one of these once the program has
 * combined it with what it adds, so `npm run validate` judges the finished objects. Pure.
 */
import {
  DNS1035_LABEL,
  dns1123LabelError,
  dns1123SubdomainError,
  ingressHostError,
  labelValueError,
  portError,
  portNameError,
} from "../policy/vocabulary/names";

/** One object as the program registers it. */
export interface PlainObject {
  /** Type token, e.g. `kubernetes:apps/v1:Deployment`. */
  type: string;
  /** Pulumi logical name. */
  name: string;
  /** The object's fields. */
  props: Record<string, unknown>;
}

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Rec) : undefined;
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** The last segment of a type token. */
function kind(type: string): string {
  return type.split(":").pop() ?? type;
}

/** Problems of one Kubernetes object; non-Kubernetes resources have none. */
export function fieldProblems(object: PlainObject): string[] {
  if (!object.type.startsWith("kubernetes:") || object.type.startsWith("kubernetes:pulumi")) {
    return [];
  }
  const k = kind(object.type);
  if (k === "Provider") return [];
  const subject = `${k} "${object.name}"`;
  const problems: string[] = [];
  const add = (field: string, value: unknown, error: string | undefined, fix: string) => {
    if (error !== undefined) {
      problems.push(`${subject}: ${field} ${JSON.stringify(value)} ${error}; ${fix}`);
    }
  };
  const metadata = rec(object.props["metadata"]) ?? {};
  const name = str(metadata["name"]);
  if (name !== undefined) {
    if (k === "Namespace") {
      add("metadata.name", name, dns1123LabelError(name), "a namespace name is a DNS-1123 label");
    } else if (k === "Service") {
      add(
        "metadata.name",
        name,
        dns1123LabelError(name) ??
          (DNS1035_LABEL.test(name) ? undefined : "does not start with a letter"),
        "a Service name is a DNS-1035 label (check the app name)",
      );
    } else {
      add("metadata.name", name, dns1123SubdomainError(name), "check the app and volume names");
    }
  }
  const namespace = str(metadata["namespace"]);
  if (namespace !== undefined) {
    add("metadata.namespace", namespace, dns1123LabelError(namespace), "check pyfleet:namespace");
  }
  checkLabels(`metadata.labels`, rec(metadata["labels"]), add);

  const spec = rec(object.props["spec"]) ?? {};
  if (k === "Deployment") {
    checkLabels("spec.selector.matchLabels", rec(rec(spec["selector"])?.["matchLabels"]), add);
    const template = rec(spec["template"]) ?? {};
    checkLabels("spec.template.metadata.labels", rec(rec(template["metadata"])?.["labels"]), add);
    problems.push(...podProblems(subject, rec(template["spec"]) ?? {}, add));
  }
  if (k === "Service") problems.push(...servicePorts(subject, spec, add));
  if (k === "Ingress") {
    arr(spec["rules"]).forEach((rule, i) => {
      const host = str(rec(rule)?.["host"]);
      if (host !== undefined) {
        add(
          `spec.rules[${i}].host`,
          host,
          ingressHostError(host),
          "check the ingress host settings",
        );
      }
    });
  }
  if (k === "ConfigMap") {
    for (const key of Object.keys(rec(object.props["data"]) ?? {})) {
      add(
        "data key",
        key,
        /^[-._a-zA-Z0-9]+$/.test(key) ? undefined : "is not a ConfigMap key ([-._a-zA-Z0-9]+)",
        "rename the config key",
      );
    }
  }
  if (k === "HorizontalPodAutoscaler") {
    const min = spec["minReplicas"];
    const max = spec["maxReplicas"];
    if (typeof min === "number" && typeof max === "number" && min > max) {
      problems.push(
        `${subject}: spec.minReplicas ${min} exceeds spec.maxReplicas ${max}; raise maxReplicas`,
      );
    }
  }
  return problems;
}

type Add = (field: string, value: unknown, error: string | undefined, fix: string) => void;

function checkLabels(field: string, labels: Rec | undefined, add: Add): void {
  for (const [key, value] of Object.entries(labels ?? {})) {
    const text = str(value);
    if (text === undefined) continue;
    add(
      `${field}["${key}"]`,
      text,
      labelValueError(text),
      "label values come from the app name, kind, environment and version",
    );
  }
}

function podProblems(subject: string, pod: Rec, add: Add): string[] {
  const problems: string[] = [];
  const volumes = new Set<string>();
  arr(pod["volumes"]).forEach((volume, i) => {
    const name = str(rec(volume)?.["name"]) ?? "";
    add(
      `spec.template.spec.volumes[${i}].name`,
      name,
      dns1123LabelError(name),
      "rename the volume",
    );
    if (volumes.has(name)) {
      problems.push(
        `${subject}: volume name "${name}" is used twice in the pod; every volume needs its own name`,
      );
    }
    volumes.add(name);
  });
  arr(pod["containers"]).forEach((c, ci) => {
    const container = rec(c) ?? {};
    const at = `spec.template.spec.containers[${ci}]`;
    const cname = str(container["name"]) ?? "";
    add(`${at}.name`, cname, dns1123LabelError(cname), "a container name is a DNS-1123 label");
    const portNames = new Set<string>();
    const portNumbers = new Set<string>();
    arr(container["ports"]).forEach((p, pi) => {
      const port = rec(p) ?? {};
      const number = port["containerPort"];
      if (typeof number === "number") {
        add(
          `${at}.ports[${pi}].containerPort`,
          number,
          portError(number),
          "use a port from 1 to 65535",
        );
        const key = `${number}/${str(port["protocol"]) ?? "TCP"}`;
        if (portNumbers.has(key)) {
          problems.push(`${subject}: container port ${key} is declared twice; use another port`);
        }
        portNumbers.add(key);
      }
      const pname = str(port["name"]);
      if (pname !== undefined) {
        add(`${at}.ports[${pi}].name`, pname, portNameError(pname), "rename the port");
        if (portNames.has(pname)) {
          problems.push(`${subject}: container port name "${pname}" is used twice`);
        }
        portNames.add(pname);
      }
    });
    const mounts = new Set<string>();
    arr(container["volumeMounts"]).forEach((m) => {
      const mount = rec(m) ?? {};
      const path = (str(mount["mountPath"]) ?? "").replace(/\/+$/, "");
      const vname = str(mount["name"]) ?? "";
      if (mounts.has(path)) {
        problems.push(
          `${subject}: mount path ${path} is used by two volumes; each volume needs its own mount path`,
        );
      }
      mounts.add(path);
      if (!volumes.has(vname)) {
        problems.push(`${subject}: volume mount "${vname}" names no volume of the pod`);
      }
    });
    for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
      const port =
        rec(rec(container[probe])?.["httpGet"])?.["port"] ??
        rec(rec(container[probe])?.["tcpSocket"])?.["port"];
      if (typeof port === "string" && !portNames.has(port)) {
        problems.push(
          `${subject}: ${at}.${probe} targets port "${port}", which the container does not declare`,
        );
      }
    }
  });
  return problems;
}

function servicePorts(subject: string, spec: Rec, add: Add): string[] {
  const problems: string[] = [];
  const numbers = new Set<string>();
  const names = new Set<string>();
  arr(spec["ports"]).forEach((p, i) => {
    const port = rec(p) ?? {};
    const number = port["port"];
    if (typeof number === "number") {
      add(`spec.ports[${i}].port`, number, portError(number), "use a port from 1 to 65535");
      const key = `${number}/${str(port["protocol"]) ?? "TCP"}`;
      if (numbers.has(key)) {
        problems.push(
          `${subject}: Service port ${key} is declared twice (spec.ports[${i}]); give each port its own number`,
        );
      }
      numbers.add(key);
    }
    const target = port["targetPort"];
    if (typeof target === "number") {
      add(`spec.ports[${i}].targetPort`, target, portError(target), "use a port from 1 to 65535");
    }
    const name = str(port["name"]);
    if (name !== undefined) {
      add(`spec.ports[${i}].name`, name, portNameError(name), "rename the port");
      if (names.has(name)) problems.push(`${subject}: Service port name "${name}" is used twice`);
      names.add(name);
    }
  });
  return problems;
}

/** Problems across objects: two objects of one kind and name, two Ingress rules for one host and path. */
export function crossObjectProblems(objects: readonly PlainObject[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const routes = new Map<string, string>();
  for (const object of objects) {
    if (!object.type.startsWith("kubernetes:")) continue;
    const metadata = rec(object.props["metadata"]) ?? {};
    const name = str(metadata["name"]);
    if (name !== undefined) {
      const key = `${kind(object.type)}/${str(metadata["namespace"]) ?? ""}/${name}`;
      const other = seen.get(key);
      if (other !== undefined) {
        problems.push(
          `${kind(object.type)} "${object.name}" and "${other}" are both named ${name}; rename one app`,
        );
      }
      seen.set(key, object.name);
    }
    if (kind(object.type) === "Ingress") {
      for (const rule of arr(rec(object.props["spec"])?.["rules"])) {
        const host = str(rec(rule)?.["host"]) ?? "*";
        for (const path of arr(rec(rec(rule)?.["http"])?.["paths"])) {
          const route = `${host}${str(rec(path)?.["path"]) ?? "/"}`;
          const other = routes.get(route);
          if (other !== undefined) {
            problems.push(
              `Ingress "${object.name}": ${route} is also routed by Ingress "${other}"; give each app its own host`,
            );
          }
          routes.set(route, object.name);
        }
      }
    }
  }
  return problems;
}

/** Instructions the generated Dockerfiles use; anything else means a value broke a line. */
const INSTRUCTIONS = new Set([
  "FROM",
  "ARG",
  "ENV",
  "WORKDIR",
  "COPY",
  "RUN",
  "USER",
  "EXPOSE",
  "HEALTHCHECK",
  "SHELL",
  "CMD",
]);

/** Problems of a generated Dockerfile's text: every line an instruction, exec forms valid JSON. */
export function dockerfileProblems(image: string, text: string): string[] {
  const problems: string[] = [];
  let continued = false;
  text.split("\n").forEach((line, i) => {
    const trimmed = line.trim();
    const wasContinued = continued;
    continued = trimmed.endsWith("\\");
    if (trimmed === "" || trimmed.startsWith("#") || wasContinued) {
      if (wasContinued && /^CMD /.test(trimmed)) checkExec(trimmed.slice(4));
      return;
    }
    const word = trimmed.split(/\s/)[0] ?? "";
    if (!INSTRUCTIONS.has(word)) {
      problems.push(
        `${image}: Dockerfile line ${i + 1} starts with ${JSON.stringify(word)}, not an instruction; a setting broke the generated file`,
      );
    }
    if (word === "CMD") checkExec(trimmed.slice(4));
  });
  function checkExec(body: string): void {
    try {
      const parsed = JSON.parse(body) as unknown;
      if (!Array.isArray(parsed) || !parsed.every((w) => typeof w === "string")) throw new Error();
    } catch {
      problems.push(`${image}: CMD ${body.slice(0, 60)} is not an exec-form JSON array`);
    }
  }
  return problems;
}
