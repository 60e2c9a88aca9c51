import { describe, expect, it } from "vitest";
import { SettingsError } from "../../stacks/problems";
import { resolveSettings } from "../../stacks/settings";
import type { Settings } from "../../stacks/types";
import { sources, type SourceOptions } from "../support/sources";

const PROMOTE = { images: { mode: "promote", fromStack: "dev" } };
const PROD_INGRESS = {
  ingress: { hostPattern: "{app}.example.com", clusterIssuer: "letsencrypt" },
};

function problemsOf(options: SourceOptions): readonly string[] {
  try {
    resolveSettings(sources(options));
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return (error as SettingsError).problems;
  }
  throw new Error("expected the settings to be rejected");
}

function app(settings: Settings, name: string) {
  const found = settings.apps.find((a) => a.name === name);
  if (!found) throw new Error(`no app ${name}`);
  return found;
}

describe("environment defaults", () => {
  it("dev: one replica, small resources, builds images, renders manifests", () => {
    const s = resolveSettings(sources({ stack: "dev" }));
    expect(s.environment).toBe("dev");
    expect(s.namespace).toBe("pyfleet-dev");
    expect(s.images).toEqual({ mode: "build" });
    expect(s.cluster).toEqual({ mode: "render", directory: "rendered/dev" });
    const dashboard = app(s, "dashboard");
    expect(dashboard.replicas).toBe(1);
    expect(dashboard.resources).toEqual({
      requests: { cpu: "100m", memory: "256Mi" },
      limits: { cpu: "1", memory: "512Mi" },
    });
    expect(dashboard.autoscaling.enabled).toBe(false);
    expect(dashboard.ingress).toEqual({ enabled: true, host: "dashboard.dev.localhost" });
    expect(s.tags).toEqual({ allowDirty: true, requireVersion: false });
    expect(s.rollout).toEqual({
      minReadySeconds: 5,
      progressDeadlineSeconds: 180,
      drainSeconds: 5,
    });
  });

  it("staging: two replicas, promotes from dev, refuses dirty builds", () => {
    const s = resolveSettings(sources({ stack: "staging" }));
    expect(app(s, "vectors").replicas).toBe(2);
    expect(s.images).toEqual({
      mode: "promote",
      fromStack: "dev",
      organization: "organization",
      pins: {},
      rollback: {},
      requireSourceMatch: false,
      gates: { soakMs: 0, requireVerified: false },
    });
    expect(s.tags).toEqual({ allowDirty: false, requireVersion: true });
  });

  it("prod: autoscaling 3-10, promotes from staging, needs a host", () => {
    const s = resolveSettings(sources({ stack: "prod", config: PROD_INGRESS }));
    const vectors = app(s, "vectors");
    expect(vectors.autoscaling).toEqual({
      enabled: true,
      minReplicas: 3,
      maxReplicas: 10,
      cpuUtilization: 70,
    });
    expect(vectors.resources.limits).toEqual({ cpu: "2", memory: "2Gi" });
    expect(vectors.ingress).toEqual({
      enabled: true,
      host: "vectors.example.com",
      clusterIssuer: "letsencrypt",
    });
    expect(s.images).toMatchObject({
      mode: "promote",
      fromStack: "staging",
      requireSourceMatch: true,
    });
  });

  it("applies kind presets: ports and health paths", () => {
    const s = resolveSettings(sources());
    expect(app(s, "dashboard")).toMatchObject({
      port: 8501,
      health: {
        startupPath: "/_stcore/health",
        readinessPath: "/_stcore/health",
        livenessPath: "/_stcore/health",
        startupBudgetSeconds: 120,
      },
    });
    expect(app(s, "vectors")).toMatchObject({
      port: 8000,
      health: { readinessPath: "/ready", livenessPath: "/health", startupBudgetSeconds: 60 },
    });
    expect(app(s, "science")).toMatchObject({ port: 8000, health: { startupBudgetSeconds: 120 } });
  });

  it("reads versions from pyproject, a VERSION file and a setting", () => {
    const s = resolveSettings(sources());
    expect(app(s, "dashboard").version).toBe("1.2.0");
    expect(app(s, "vectors").version).toBe("0.3.1");
    expect(app(s, "science").version).toBe("0.9.0");
  });
});

describe("overrides", () => {
  it("stack-wide config overrides the environment table", () => {
    const s = resolveSettings(
      sources({
        config: { replicas: 2, resources: { limits: { memory: "1Gi" } }, namespace: "team-a" },
      }),
    );
    expect(app(s, "vectors").replicas).toBe(2);
    expect(app(s, "vectors").resources.limits.memory).toBe("1Gi");
    expect(app(s, "vectors").resources.requests.memory).toBe("256Mi");
    expect(s.namespace).toBe("team-a");
  });

  it("catalogue per-environment blocks override stack-wide values, stack apps override both", () => {
    const s = resolveSettings(
      sources({
        stack: "prod",
        config: {
          ...PROD_INGRESS,
          resources: { requests: { cpu: "250m" } },
          apps: { dashboard: { replicas: 4 } },
        },
      }),
    );
    const dashboard = app(s, "dashboard");
    expect(dashboard.resources.requests.cpu).toBe("500m");
    expect(dashboard.replicas).toBe(4);
    expect(app(s, "vectors").resources.requests.cpu).toBe("250m");
  });

  it("an app can be disabled per stack without leaving the catalogue", () => {
    const s = resolveSettings(sources({ config: { apps: { science: { enabled: false } } } }));
    expect(s.apps.map((a) => a.name)).toEqual(["dashboard", "vectors"]);
  });

  it("a kubeconfig or context selects a live cluster instead of render mode", () => {
    expect(resolveSettings(sources({ config: { kubeContext: "k3s" } })).cluster).toEqual({
      mode: "context",
      context: "k3s",
    });
    expect(
      resolveSettings(
        sources({ config: { kubeconfig: "apiVersion: v1" }, secretKeys: ["kubeconfig"] }),
      ).cluster,
    ).toEqual({ mode: "kubeconfig" });
    expect(
      resolveSettings(sources({ config: { kubeconfigPath: "/etc/rancher/k3s/k3s.yaml" } })).cluster,
    ).toEqual({ mode: "context", kubeconfigPath: "/etc/rancher/k3s/k3s.yaml" });
    expect(
      resolveSettings(sources({ config: { kubeconfigPath: "k.yaml", kubeContext: "k3s" } }))
        .cluster,
    ).toEqual({ mode: "context", context: "k3s", kubeconfigPath: "k.yaml" });
  });

  it("pins digests for rollback when promoting", () => {
    const pin = `localhost:5000/pyfleet/vectors@sha256:${"a".repeat(64)}`;
    const s = resolveSettings(
      sources({
        stack: "staging",
        config: { images: { mode: "promote", fromStack: "dev", pins: { vectors: pin } } },
      }),
    );
    expect(s.images).toMatchObject({ pins: { vectors: pin } });
  });
});

describe("stack name mapping", () => {
  it("maps a personal stack through pyfleet:environment", () => {
    const s = resolveSettings(sources({ stack: "dev-alice", config: { environment: "dev" } }));
    expect(s.environment).toBe("dev");
    expect(s.cluster).toEqual({ mode: "render", directory: "rendered/dev-alice" });
  });

  it("rejects an unknown stack name without pyfleet:environment", () => {
    expect(problemsOf({ stack: "dev-alice" })).toEqual([
      'pyfleet:environment: stack "dev-alice" is not named dev, staging or prod, so it must say ' +
        "which environment it is: pulumi config set pyfleet:environment dev --stack dev-alice",
    ]);
  });

  it("rejects an unknown environment value", () => {
    expect(problemsOf({ stack: "qa", config: { environment: "qa" } })).toContain(
      'pyfleet:environment: expected one of "dev", "staging", "prod", got "qa" (in Pulumi.qa.yaml)',
    );
  });
});

describe("validation errors", () => {
  it("reports an unknown key, negative replicas, '2 GB' and an unknown flavour together", () => {
    let error: SettingsError | undefined;
    try {
      resolveSettings(
        sources({
          config: {
            replica: 2,
            replicas: -1,
            resources: { limits: { memory: "2 GB" } },
            apps: { science: { flavour: "poetry" } },
          },
        }),
      );
    } catch (e) {
      error = e as SettingsError;
    }
    expect(error).toBeInstanceOf(SettingsError);
    expect(error!.problems).toEqual([
      "pyfleet:replicas: must be >= 0, got -1 (in Pulumi.dev.yaml)",
      'pyfleet:resources.limits.memory: expected a memory quantity such as "512Mi" or "2Gi" (suffix Ki, Mi, Gi; no space), got "2 GB" (in Pulumi.dev.yaml)',
      'pyfleet:apps.science.flavour: expected one of "pip", "conda", got "poetry" (in Pulumi.dev.yaml)',
      expect.stringMatching(
        /^pyfleet:replica: unknown setting in Pulumi\.dev\.yaml \(did you mean "replicas"\?\); known settings here: environment, registry/,
      ),
    ]);
    expect(error!.message).toMatch(
      /^pyfleet settings for stack "dev" are invalid \(4 problems\); nothing was created or changed:/,
    );
  });

  it("suggests the key a nested typo meant", () => {
    expect(problemsOf({ config: { build: { platfroms: ["linux/amd64"] } } })[0]).toMatch(
      /^pyfleet:build\.platfroms: unknown setting in Pulumi\.dev\.yaml \(did you mean "platforms"\?\)/,
    );
  });

  it("rejects a limit below its request", () => {
    expect(
      problemsOf({
        config: {
          apps: {
            vectors: { resources: { requests: { memory: "1Gi" }, limits: { memory: "512Mi" } } },
          },
        },
      }),
    ).toEqual([
      "apps.vectors.resources.limits.memory: 512Mi is below the request 1Gi; a limit must be >= its request",
    ]);
    expect(
      problemsOf({ config: { resources: { requests: { cpu: "2" }, limits: { cpu: "500m" } } } }),
    ).toContain(
      "apps.dashboard.resources.limits.cpu: 500m is below the request 2; a limit must be >= its request",
    );
  });

  it("rejects an invalid CPU quantity", () => {
    expect(problemsOf({ config: { resources: { requests: { cpu: "two" } } } })).toEqual([
      'pyfleet:resources.requests.cpu: expected a CPU quantity such as "250m" or "1", got "two" (in Pulumi.dev.yaml)',
    ]);
  });

  it("rejects secret-looking keys in an app's plain config", () => {
    expect(problemsOf({ config: { apps: { vectors: { config: { API_TOKEN: "x" } } } } })).toEqual([
      "apps.vectors.config.API_TOKEN: looks like a secret, and config is stored in a plain ConfigMap; declare it in apps.vectors.secrets instead and set its value with: pulumi config set --secret --path 'pyfleet:appSecrets.vectors.API_TOKEN' <value>",
    ]);
  });

  it("rejects a probe path without a leading slash", () => {
    expect(
      problemsOf({ config: { apps: { vectors: { health: { readinessPath: "ready" } } } } }),
    ).toEqual([
      'pyfleet:apps.vectors.health.readinessPath: expected an absolute HTTP path such as "/health" (RFC 3986 characters only: no quotes, backslashes or spaces), got "ready" (in Pulumi.dev.yaml)',
    ]);
  });

  it("rejects a port out of range", () => {
    expect(problemsOf({ config: { apps: { vectors: { port: 70000 } } } })).toEqual([
      "pyfleet:apps.vectors.port: expected a port from 1 to 65535, got 70000 (in Pulumi.dev.yaml)",
    ]);
  });

  it("rejects prod ingress without a host", () => {
    const problems = problemsOf({ stack: "prod" });
    expect(problems).toContain(
      'apps.dashboard.ingress.host: prod enables ingress but no host is set; set pyfleet:ingress.hostPattern (e.g. "{app}.example.com") or pyfleet:apps.dashboard.ingress.host, or disable it with pyfleet:apps.dashboard.ingress.enabled: false',
    );
    expect(problems).toHaveLength(3);
  });

  it("rejects fewer than two replicas outside dev", () => {
    expect(
      problemsOf({ stack: "staging", config: { apps: { vectors: { replicas: 1 } } } }),
    ).toEqual([
      "apps.vectors.replicas: staging runs at least 2 replicas so a node drain or a rollout never takes the app down, got 1; set pyfleet:apps.vectors.replicas to 2 or more",
    ]);
  });

  it("rejects autoscaling below two pods or with max < min", () => {
    expect(
      problemsOf({
        config: { autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 2 } },
        files: {},
      }),
    ).toContain(
      "apps.dashboard.autoscaling.maxReplicas: 2 is below minReplicas 3; raise maxReplicas or lower minReplicas",
    );
    expect(
      problemsOf({
        config: { apps: { vectors: { autoscaling: { enabled: true, minReplicas: 1 } } } },
      }),
    ).toEqual([
      "apps.vectors.autoscaling.minReplicas: must be >= 2 when autoscaling is enabled, got 1",
    ]);
  });

  it("rejects a missing requirements.txt, naming the app and the file", () => {
    expect(problemsOf({ files: { "apps/vectors/requirements.txt": undefined } })).toEqual([
      "apps.vectors: apps/vectors/requirements.txt not found; a pip app needs requirements.txt (or pyproject.toml)",
    ]);
  });

  it("rejects a missing environment.yml", () => {
    expect(problemsOf({ files: { "apps/science/environment.yml": undefined } })).toEqual([
      "apps.science: apps/science/environment.yml not found; a conda app needs environment.yml (or set flavour: pip in apps/catalogue.yaml)",
    ]);
  });

  it("rejects an environment.yml that does not parse or lists no dependencies", () => {
    expect(
      problemsOf({ files: { "apps/science/environment.yml": "dependencies: [python=3.11\n" } }),
    ).toEqual([
      expect.stringMatching(
        /^apps\.science: apps\/science\/environment\.yml is not valid YAML \(.+\); fix the file$/,
      ),
    ]);
    for (const text of ["", "name: science\ndependencies: []\n"]) {
      expect(problemsOf({ files: { "apps/science/environment.yml": text } })).toEqual([
        'apps.science: apps/science/environment.yml lists no dependencies; add them under "dependencies:" (e.g. - python=3.11)',
      ]);
    }
  });

  it("rejects a conda-lock.yml for another platform than the image's", () => {
    const lock = (platforms: string) =>
      `version: 1\nmetadata:\n  platforms: [${platforms}]\npackage: []\n`;
    expect(problemsOf({ files: { "apps/science/conda-lock.yml": lock("osx-arm64") } })).toEqual([
      "apps.science: apps/science/conda-lock.yml locks osx-arm64, not linux-64 (the image platform linux/amd64); re-lock with conda-lock -p linux-64",
    ]);
    expect(() =>
      resolveSettings(sources({ files: { "apps/science/conda-lock.yml": lock("linux-64") } })),
    ).not.toThrow();
  });

  it("rejects an unknown flavour in the catalogue", () => {
    const catalogue =
      "apps:\n  x:\n    path: apps/vectors\n    flavour: poetry\n    kind: fastapi\n";
    expect(problemsOf({ files: { "apps/catalogue.yaml": catalogue } })).toEqual([
      'apps.x.flavour: expected one of "pip", "conda", got "poetry" (in apps/catalogue.yaml)',
    ]);
  });

  it("rejects a missing app folder and a missing catalogue", () => {
    const catalogue = "apps:\n  x:\n    path: apps/nope\n    flavour: pip\n    kind: worker\n";
    expect(problemsOf({ files: { "apps/catalogue.yaml": catalogue } })).toEqual([
      "apps.x.path: the folder apps/nope does not exist (in apps/catalogue.yaml); point path at the app's source folder",
    ]);
    expect(problemsOf({ config: { catalogue: "apps/missing.yaml" } })).toEqual([
      "pyfleet:catalogue: the app catalogue apps/missing.yaml does not exist; create it or point pyfleet:catalogue at the right file",
    ]);
  });

  it("rejects an invalid version", () => {
    expect(problemsOf({ files: { "apps/vectors/VERSION": "0.3.1 beta\n" } })).toEqual([
      `apps.vectors.version: "0.3.1 beta" from apps/vectors/VERSION is not a valid image tag (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-'); use a version such as 1.2.0 or 1.2.0-rc.1`,
    ]);
  });

  it("rejects an invalid registry", () => {
    expect(problemsOf({ config: { registry: "https://Registry.example.com/team" } })).toEqual([
      'pyfleet:registry: expected "host[:port]/path" in lower case without scheme or tag, e.g. "registry.example.com/team", got "https://Registry.example.com/team" (in Pulumi.dev.yaml)',
    ]);
  });

  it("rejects a base image without a tag or with latest", () => {
    expect(problemsOf({ config: { build: { baseImages: { python: "python" } } } })[0]).toMatch(
      /^pyfleet:build\.baseImages\.python: expected an image with an explicit tag, e\.g\. "python:3\.11-slim-bookworm".*got "python" \(in Pulumi\.dev\.yaml\)$/,
    );
    expect(problemsOf({ config: { build: { baseImages: { python: "python:latest" } } } })).toEqual([
      'pyfleet:build.baseImages.python: the tag "latest" is mutable; pin a version tag (optionally with a digest), got "python:latest" (in Pulumi.dev.yaml)',
    ]);
    const digest = `python:3.11-slim@sha256:${"b".repeat(64)}`;
    expect(() =>
      resolveSettings(sources({ config: { build: { baseImages: { python: digest } } } })),
    ).not.toThrow();
  });

  it("rejects a pip index URL carrying credentials", () => {
    expect(
      problemsOf({ config: { build: { pipIndexUrl: "https://u:p@pypi.internal/simple" } } })[0],
    ).toMatch(/^pyfleet:build\.pipIndexUrl: must not carry credentials/);
  });

  it("resolves the conda installer per app over the stack over the default", () => {
    const science = (config: Record<string, unknown>) =>
      resolveSettings(sources({ config })).apps.find((a) => a.name === "science")!.build;
    expect(science({}).condaInstaller).toBe("micromamba");
    expect(science({ build: { condaInstaller: "rattler" } }).condaInstaller).toBe("rattler");
    expect(
      science({
        build: { condaInstaller: "rattler" },
        apps: { science: { build: { condaInstaller: "micromamba" } } },
      }).condaInstaller,
    ).toBe("micromamba");
    expect(
      resolveSettings(sources({ config: { build: { condaChannel: "http://127.0.0.1:8470" } } }))
        .build.condaChannel,
    ).toBe("http://127.0.0.1:8470");
  });

  it("rejects an unknown conda installer and a conda channel that is no URL or has credentials", () => {
    expect(problemsOf({ config: { build: { condaInstaller: "conda" } } })).toEqual([
      'pyfleet:build.condaInstaller: expected one of "micromamba", "rattler", got "conda" (in Pulumi.dev.yaml)',
    ]);
    expect(problemsOf({ config: { build: { condaChannel: "conda-forge" } } })[0]).toBe(
      'pyfleet:build.condaChannel: expected channel URLs, comma-separated (e.g. "http://127.0.0.1:8470"), got "conda-forge" (in Pulumi.dev.yaml)',
    );
    expect(
      problemsOf({ config: { build: { condaChannel: "https://u:p@conda.internal/main" } } })[0],
    ).toMatch(/^pyfleet:build\.condaChannel: must not carry credentials/);
  });

  it("refuses plain-text credentials and never echoes them", () => {
    const problems = problemsOf({
      config: { registryUsername: "ci", registryPassword: "hunter2" },
    });
    expect(problems).toEqual([
      "pyfleet:registryPassword: holds a credential but is stored in plain text in Pulumi.dev.yaml; store it encrypted: pulumi config set --secret pyfleet:registryPassword <value>",
    ]);
    expect(problems.join("\n")).not.toContain("hunter2");
  });

  it("checks declared secrets against the stack's values", () => {
    const catalogue =
      "apps:\n  api:\n    path: apps/vectors\n    flavour: pip\n    kind: fastapi\n    secrets: [API_TOKEN]\n";
    expect(problemsOf({ files: { "apps/catalogue.yaml": catalogue } })).toEqual([
      "pyfleet:appSecrets.api.API_TOKEN: the app declares secret API_TOKEN but the stack has no value; set it: pulumi config set --secret --path 'pyfleet:appSecrets.api.API_TOKEN' <value> --stack dev",
    ]);
    expect(
      problemsOf({
        files: { "apps/catalogue.yaml": catalogue },
        config: { appSecrets: { api: { API_TOKEN: "x", API_TOKN: "y" } } },
        secretKeys: ["appSecrets"],
      }),
    ).toEqual([
      'pyfleet:appSecrets.api.API_TOKN: the app does not declare this secret; add "API_TOKN" to apps.api.secrets in apps/catalogue.yaml, or remove the value',
    ]);
  });

  it("rejects a build context without the required .dockerignore entries", () => {
    expect(problemsOf({ files: { "apps/vectors/.dockerignore": "node_modules\n" } })).toEqual([
      "apps.vectors: apps/vectors/.dockerignore lacks .git, .env, .env.*, Pulumi.*.yaml, *.kubeconfig, kubeconfig*, __pycache__; secrets and state must stay out of the build context (write the file with: npm run dockerignore -- vectors)",
    ]);
  });

  it("rejects stack overrides for apps the catalogue lacks", () => {
    expect(problemsOf({ config: { apps: { dashbaord: { replicas: 2 } } } })).toEqual([
      'pyfleet:apps.dashbaord: no app "dashbaord" in apps/catalogue.yaml (apps there: dashboard, vectors, science); add it to the catalogue first, or remove apps.dashbaord from Pulumi.dev.yaml',
    ]);
  });

  it("refuses dirty and unversioned builds where the tag policy says so", () => {
    const strict = { tags: { allowDirty: false, requireVersion: true } };
    expect(problemsOf({ config: strict, dirty: true })).toContain(
      "apps.vectors: apps/vectors has uncommitted changes and dev refuses dirty builds; commit them (or build in dev, which allows dirty images)",
    );
    expect(problemsOf({ config: strict, files: { "apps/vectors/VERSION": undefined } })).toEqual([
      "apps.vectors.version: apps/vectors/VERSION not found",
      "apps.vectors.version: dev refuses unversioned builds; declare a version (pyproject.toml [project].version, a VERSION file, or version: {from: setting})",
    ]);
    // Promoting environments never build, so a dirty tree does not matter there.
    expect(() =>
      resolveSettings(sources({ stack: "staging", dirty: true, config: PROMOTE })),
    ).not.toThrow();
  });
});

describe("supply chain settings", () => {
  const KEY =
    "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nabc\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n";
  const PUB = {
    "signing/cosign.pub": "-----BEGIN PUBLIC KEY-----\nxyz\n-----END PUBLIC KEY-----\n",
  };

  it("signs where a key is set and the stack builds; gates per environment by default", () => {
    const s = resolveSettings(
      sources({
        config: { signing: { key: KEY, password: "pw", publicKey: "signing/cosign.pub" } },
        secretKeys: ["signing"],
        files: PUB,
      }),
    );
    expect(s.signing).toEqual({ signs: true, publicKey: "signing/cosign.pub" });
    expect(s.vulnerabilities).toEqual({ refuseAt: "never", exceptions: {} });
    const prod = resolveSettings(
      sources({ stack: "prod", config: { ...PROMOTE, ...PROD_INGRESS } }),
    );
    expect(prod.vulnerabilities.refuseAt).toBe("high");
    expect(prod.signing).toEqual({ signs: false });
  });

  it("refuses a private key or password stored in plain text, without echoing it", () => {
    const problems = problemsOf({ config: { signing: { key: KEY, password: "pw" } } });
    expect(problems).toEqual([
      expect.stringContaining(
        "pyfleet:signing.key: holds a credential but is stored in plain text",
      ),
      expect.stringContaining("pyfleet:signing.password: holds a credential"),
    ]);
    expect(problems.join("\n")).not.toContain("abc");
    expect(problems[0]).toContain("pulumi config set --secret --path 'pyfleet:signing.key'");
  });

  it("names a public key that is not a project file, and a key where nothing is built", () => {
    expect(problemsOf({ config: { signing: { publicKey: "signing/missing.pub" } } })).toEqual([
      expect.stringMatching(
        /^pyfleet:signing\.publicKey: "signing\/missing\.pub" is not a file of the project; generate the key pair with `cosign generate-key-pair`/,
      ),
    ]);
    expect(
      problemsOf({
        stack: "staging",
        config: { ...PROMOTE, signing: { key: KEY } },
        secretKeys: ["signing"],
      }),
    ).toEqual([
      expect.stringContaining(
        'pyfleet:signing.key: stack "staging" promotes digests and builds none',
      ),
    ]);
    expect(
      problemsOf({ config: { signing: { key: "not a key" } }, secretKeys: ["signing"] }),
    ).toEqual([expect.stringContaining("expected the PEM text of a cosign private key")]);
  });

  it("reads an exception date Pulumi's YAML turned into a time as that date", () => {
    const s = resolveSettings(
      sources({
        config: {
          vulnerabilities: {
            exceptions: {
              "GHSA-2g68-c3qc-8985": { reason: "SEC-12", expires: "2027-03-31 00:00:00 +0000 UTC" },
            },
          },
        },
      }),
    );
    expect(s.vulnerabilities.exceptions).toEqual({
      "GHSA-2g68-c3qc-8985": { reason: "SEC-12", expires: "2027-03-31" },
    });
  });

  it("names a bad threshold, advisory id or exception date, with the fix", () => {
    const problems = problemsOf({
      config: {
        vulnerabilities: {
          refuseAt: "severe",
          exceptions: {
            "ghsa-lowercase": { reason: "because", expires: "2027-01-01" },
            "GHSA-2g68-c3qc-8985": { reason: "because", expires: "next week" },
          },
        },
      },
    });
    expect(problems).toContain(
      'pyfleet:vulnerabilities.refuseAt: expected one of "low", "medium", "high", "critical", "never", got "severe" (in Pulumi.dev.yaml)',
    );
    // A bad id is judged once the exceptions parse otherwise.
    expect(
      problemsOf({
        config: {
          vulnerabilities: {
            exceptions: { "ghsa-lowercase": { reason: "because", expires: "2027-01-01" } },
          },
        },
      }),
    ).toEqual([
      'pyfleet:vulnerabilities.exceptions.ghsa-lowercase: expected an advisory id such as "GHSA-2g68-c3qc-8985" or "CVE-2024-34069", got "ghsa-lowercase" (in Pulumi.dev.yaml)',
    ]);
    expect(problems).toContain(
      'pyfleet:vulnerabilities.exceptions.GHSA-2g68-c3qc-8985.expires: expected the date the exception ends, as "YYYY-MM-DD", got "next week" (in Pulumi.dev.yaml)',
    );
  });
});
