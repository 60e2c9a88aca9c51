/**
 * The shape of every setting pyfleet reads: the `pyfleet:*` keys of `Pulumi.<stack>.yaml` and
 * the app catalogue file. Objects are strict, so a misspelt key is an error, never a silent
 * fall-back to a default.
 */
import { z } from "zod";
import {
  DEBIAN_PACKAGE_PATTERN,
  DIGEST_PATTERN,
  DURATION_HINT,
  DIGEST_REF_PATTERN,
  MIN_UID,
  MUTABLE_TAG,
  TAG_PATTERN,
  hasUrlCredentials,
  isCpuQuantity,
  isMemoryQuantity,
  parseDuration,
  tagOf,
} from "../policy/vocabulary";
import { HTTP_PATH } from "./presets";
import { APP_KINDS, CONDA_INSTALLERS, ENVIRONMENTS, FLAVOURS } from "./types";

/** A DNS-1035 label short enough that derived object names stay within 63 characters. */
export const appName = z.string().regex(/^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$/, {
  error:
    "expected a lower-case DNS label of at most 32 characters (letters, digits, '-'; starting with a letter)",
});

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, {
  error: "expected a lower-case DNS label (letters, digits, '-'; at most 63 characters)",
});

const dnsName = z
  .string()
  .regex(/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, {
    error: "expected a lower-case DNS host name such as app.example.com",
  });

const envVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
  error: "expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*)",
});

const httpPath = z.string().regex(HTTP_PATH, {
  error:
    'expected an absolute HTTP path such as "/health" (RFC 3986 characters only: no quotes, backslashes or spaces)',
});

const port = z
  .number({ error: "expected a port number" })
  .int({ error: "expected a whole port number" })
  .min(1, { error: "expected a port from 1 to 65535" })
  .max(65535, { error: "expected a port from 1 to 65535" });

const nonNegativeInt = z
  .number({ error: "expected a whole number >= 0" })
  .int({ error: "expected a whole number >= 0" })
  .min(0, { error: "must be >= 0" });

const positiveInt = z
  .number({ error: "expected a whole number >= 1" })
  .int({ error: "expected a whole number >= 1" })
  .min(1, { error: "must be >= 1" });

const percent = z
  .number({ error: "expected a percentage from 1 to 100" })
  .int({ error: "expected a whole percentage" })
  .min(1, { error: "expected a percentage from 1 to 100" })
  .max(100, { error: "expected a percentage from 1 to 100" });

const cpuQuantity = z
  .string({ error: 'expected a CPU quantity such as "250m" or "1"' })
  .refine(isCpuQuantity, { error: 'expected a CPU quantity such as "250m" or "1"' });

/** An image size budget: a quantity such as "400Mi" or "1Gi" (compressed, as pushed). */
const imageSize = z
  .string({ error: 'expected an image size such as "400Mi" or "1Gi"' })
  .refine(isMemoryQuantity, {
    error: 'expected an image size such as "400Mi" or "1Gi" (suffix Ki, Mi, Gi; no space)',
  });

/** A duration such as "30m" (policy/vocabulary/durations.ts). */
const duration = z
  .string({ error: `expected ${DURATION_HINT}` })
  .refine((text) => parseDuration(text) !== undefined, { error: `expected ${DURATION_HINT}` });

const memoryQuantity = z
  .string({ error: 'expected a memory quantity such as "512Mi" or "2Gi"' })
  .refine(isMemoryQuantity, {
    error: 'expected a memory quantity such as "512Mi" or "2Gi" (suffix Ki, Mi, Gi; no space)',
  });

/** The body of an anchored pattern, to compose it into a larger one. */
function unanchored(pattern: RegExp): string {
  return pattern.source.replace(/^\^/, "").replace(/\$$/, "");
}

const IMAGE_REPOSITORY =
  /^(?:[a-z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;

/** An image reference that carries a tag, optionally a digest too (`repo:tag[@sha256:...]`). */
export const taggedImage = z
  .string()
  .regex(
    new RegExp(
      `^${unanchored(IMAGE_REPOSITORY)}:${unanchored(TAG_PATTERN)}(?:@${unanchored(DIGEST_PATTERN)})?$`,
    ),
    {
      error:
        'expected an image with an explicit tag, e.g. "python:3.11-slim-bookworm" (optionally "@sha256:<digest>"); untagged or :latest-only references are not reproducible',
    },
  )
  .refine((ref) => tagOf(ref) !== MUTABLE_TAG, {
    error: 'the tag "latest" is mutable; pin a version tag (optionally with a digest)',
  });

/** `host[:port]/prefix` of a registry (the prefix may be empty). */
export const registryRef = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/, {
    error:
      'expected "host[:port]/path" in lower case without scheme or tag, e.g. "registry.example.com/team"',
  });

const platform = z.enum(
  [
    "linux/amd64",
    "linux/arm64",
    "linux/arm/v7",
    "linux/arm/v6",
    "linux/386",
    "linux/ppc64le",
    "linux/s390x",
    "linux/riscv64",
  ],
  { error: "expected a platform such as linux/amd64 or linux/arm64" },
);

const digestRef = z
  .string()
  .regex(DIGEST_REF_PATTERN, {
    error: 'expected an image digest reference "<repository>@sha256:<64 hex>"',
  })
  .refine((ref) => tagOf(ref) !== MUTABLE_TAG, {
    error: `names the mutable tag "${MUTABLE_TAG}"; drop the tag, the digest alone names the image`,
  });

const resources = z.strictObject({
  requests: z.strictObject({ cpu: cpuQuantity, memory: memoryQuantity }).partial(),
  limits: z.strictObject({ cpu: cpuQuantity, memory: memoryQuantity }).partial(),
});

const autoscaling = z.strictObject({
  enabled: z.boolean(),
  minReplicas: positiveInt,
  maxReplicas: positiveInt,
  cpuUtilization: percent,
  memoryUtilization: percent,
});

const baseImages = z.strictObject({
  python: taggedImage,
  condaBuilder: taggedImage,
  condaRuntime: taggedImage,
});

const versionSource = z.discriminatedUnion(
  "from",
  [
    z.strictObject({ from: z.literal("pyproject") }),
    z.strictObject({ from: z.literal("file"), file: z.string().min(1) }),
    z.strictObject({ from: z.literal("setting"), value: z.string().min(1) }),
  ],
  {
    error:
      'expected {from: pyproject}, {from: file, file: VERSION} or {from: setting, value: "1.2.3"}',
  },
);

const volume = z.strictObject({
  name: dnsLabel,
  mountPath: z.string().regex(/^(\/[A-Za-z0-9._@+-]+)+\/?$/, {
    error: 'expected an absolute path such as "/data" (letters, digits, ".", "_", "-", "@", "+")',
  }),
  size: memoryQuantity,
  storageClass: dnsLabel.optional(),
});

/** Per-app fields, every one optional: the same shape overrides at every level. */
export const appOverride = z
  .strictObject({
    enabled: z.boolean(),
    path: z.string().min(1),
    flavour: z.enum(FLAVOURS),
    kind: z.enum(APP_KINDS),
    entrypoint: z.string().min(1),
    port,
    description: z.string(),
    version: versionSource,
    health: z
      .strictObject({
        startupPath: httpPath,
        readinessPath: httpPath,
        livenessPath: httpPath,
        smokePath: httpPath,
        startupBudgetSeconds: positiveInt,
      })
      .partial(),
    replicas: nonNegativeInt,
    resources: resources.partial(),
    autoscaling: autoscaling.partial(),
    ingress: z
      .strictObject({
        enabled: z.boolean(),
        host: dnsName,
        tlsSecretName: dnsLabel,
        clusterIssuer: dnsLabel,
      })
      .partial(),
    volumes: z.array(volume),
    config: z.record(envVarName, z.string({ error: "expected a string value" })),
    secrets: z.array(envVarName),
    allowFrom: z.array(dnsLabel),
    gpu: z.strictObject({ count: positiveInt, runtimeClassName: dnsLabel.optional() }),
    metrics: z.strictObject({ port, path: httpPath }),
    build: z
      .strictObject({
        platforms: z.array(platform).min(1),
        target: z.enum(["production", "development"]),
        baseImages: baseImages.partial(),
        aptPackages: z.array(
          z.string().regex(DEBIAN_PACKAGE_PATTERN, {
            error: "expected a Debian package name, optionally =version",
          }),
        ),
        variant: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: "expected a variant name" }),
        builderPackages: z.array(
          z.string().regex(DEBIAN_PACKAGE_PATTERN, {
            error: "expected a Debian package name, optionally =version",
          }),
        ),
        uid: z
          .number()
          .int()
          .min(MIN_UID, { error: `must be a non-root uid >= ${MIN_UID}` })
          .max(65535),
        condaInstaller: z.enum(CONDA_INSTALLERS),
        maxImageSize: imageSize,
      })
      .partial(),
  })
  .partial();

/** One app as the catalogue declares it, with optional per-environment overrides. */
export const catalogueApp = appOverride.extend({
  environments: z
    .strictObject({ dev: appOverride, staging: appOverride, prod: appOverride })
    .partial()
    .optional(),
});

/** The catalogue file. */
export const catalogueFile = z.strictObject({
  apps: z.record(appName, catalogueApp),
});

/** Every `pyfleet:*` stack setting. */
export const stackConfig = z
  .strictObject({
    environment: z.enum(ENVIRONMENTS),
    registry: registryRef,
    registryUsername: z.string().min(1),
    registryPassword: z.string().min(1),
    pipConf: z.string().min(1),
    namespace: dnsLabel,
    kubeconfig: z.string().min(1),
    kubeContext: z.string().min(1),
    kubeconfigPath: z.string().min(1),
    renderDir: z.string().min(1),
    catalogue: z.string().min(1),
    replicas: nonNegativeInt,
    resources: resources.partial(),
    autoscaling: autoscaling.partial(),
    ingress: z
      .strictObject({
        enabled: z.boolean(),
        hostPattern: z.string().regex(/^[a-z0-9.{}-]+$/, {
          error: 'expected a host pattern such as "{app}.{env}.example.com"',
        }),
        tlsSecretName: dnsLabel,
        clusterIssuer: dnsLabel,
      })
      .partial(),
    rollout: z
      .strictObject({
        minReadySeconds: positiveInt,
        progressDeadlineSeconds: positiveInt,
        drainSeconds: nonNegativeInt,
      })
      .partial(),
    build: z
      .strictObject({
        buildOnPreview: z.boolean(),
        builder: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, {
          error: "expected a buildx builder name",
        }),
        dockerHost: z.string().regex(/^(unix|tcp|ssh):\/\/[^\s"'`$\\]+$/, {
          error: 'expected a Docker engine address such as "unix:///var/run/docker.sock"',
        }),
        dockerConfig: z.string().regex(/^\/[^\s"'`$\\]*$/, {
          error: "expected the absolute path of a Docker client config folder",
        }),
        push: z.boolean(),
        registryCache: z.boolean(),
        network: z.enum(["default", "host", "none"]),
        platforms: z.array(platform).min(1),
        target: z.enum(["production", "development"]),
        baseImages: baseImages.partial(),
        builderPackages: z.array(
          z.string().regex(DEBIAN_PACKAGE_PATTERN, {
            error: "expected a Debian package name, optionally =version",
          }),
        ),
        uid: z
          .number()
          .int()
          .min(MIN_UID, { error: `must be a non-root uid >= ${MIN_UID}` })
          .max(65535),
        pipIndexUrl: z.url().refine((url) => !hasUrlCredentials(url), {
          error:
            "must not carry credentials (build arguments end up in the image history); put a " +
            "pip.conf with the credentials in the secret pyfleet:pipConf instead",
        }),
        pipFindLinks: z
          .string()
          .regex(
            /^(https?:\/\/[^\s"'\\]+|\/[^\s"'\\]*)( +(https?:\/\/[^\s"'\\]+|\/[^\s"'\\]*))*$/,
            {
              error:
                "expected http(s) URLs or absolute paths separated by spaces (no quotes or backslashes)",
            },
          )
          .refine((links) => !links.split(/ +/).some(hasUrlCredentials), {
            error:
              "must not carry credentials (build arguments end up in the image history); put a " +
              "pip.conf with the credentials in the secret pyfleet:pipConf instead",
          }),
        pipNoIndex: z.boolean(),
        maxImageSize: imageSize,
        condaInstaller: z.enum(CONDA_INSTALLERS),
        condaChannel: z
          .string()
          .regex(/^[a-z][a-z0-9+.-]*:\/\/[^\s,]+(,[a-z][a-z0-9+.-]*:\/\/[^\s,]+)*$/i, {
            error: 'expected channel URLs, comma-separated (e.g. "http://127.0.0.1:8470")',
          })
          .refine((urls) => !/:\/\/[^/@,]+@/.test(urls), {
            error:
              "must not carry credentials (build arguments end up in the image history); serve " +
              "the channel without them or from a proxy on the builder's network",
          }),
      })
      .partial(),
    tags: z.strictObject({ allowDirty: z.boolean(), requireVersion: z.boolean() }).partial(),
    images: z
      .strictObject({
        mode: z.enum(["build", "promote"]),
        fromStack: z.string().min(1),
        organization: z.string().min(1),
        pins: z.record(appName, digestRef),
        rollback: z.record(appName, digestRef),
        requireSourceMatch: z.boolean(),
        soak: duration,
        requireVerified: z.boolean(),
        breakGlass: z.strictObject({
          reason: z
            .string({ error: "expected the reason, as it will be recorded (e.g. a ticket)" })
            .refine((reason) => reason.trim().length >= 3, {
              error: "give the reason it will be recorded under (e.g. a ticket)",
            }),
        }),
      })
      .partial(),
    egress: z.enum(["open", "restricted"]),
    verification: z
      .strictObject({
        enabled: z.boolean(),
        via: z.string().regex(/^https?:\/\/[^\s/?#@]+$/, {
          error:
            'expected the ingress address to send the checks to, scheme and host only (e.g. "http://127.0.0.1:8088")',
        }),
      })
      .partial(),
    signing: z
      .strictObject({
        key: z
          .string()
          .refine(
            (pem) => pem === SECRET_PLACEHOLDER || /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem),
            {
              error:
                "expected the PEM text of a cosign private key (cosign generate-key-pair writes cosign.key)",
            },
          ),
        password: z.string(),
        publicKey: z.string().regex(/^(?!\/)(?!.*(^|\/)\.\.(\/|$))[^\s"'`$\\]+\.pub$/, {
          error:
            'expected the project-relative path of a cosign public key (e.g. "signing/cosign.pub")',
        }),
      })
      .partial(),
    vulnerabilities: z
      .strictObject({
        database: z.string().regex(/^[^\s"'`$\\]+$/, {
          error:
            "expected the folder of an OSV database export (<Ecosystem>/all.zip files), absolute or project-relative",
        }),
        refuseAt: z.enum(["low", "medium", "high", "critical", "never"], {
          error: 'expected one of "low", "medium", "high", "critical" or "never" (report only)',
        }),
        exceptions: z
          .record(
            z.string(),
            z.strictObject({
              reason: z
                .string({ error: "expected the reason it is let through, as it will be recorded" })
                .refine((reason) => reason.trim().length >= 3, {
                  error: "give the reason it is let through (e.g. a ticket)",
                }),
              // Pulumi's YAML reads an unquoted 2027-03-31 as a time and hands it over as
              // "2027-03-31 00:00:00 +0000 UTC": the date it names is meant.
              expires: z.preprocess(
                (value) =>
                  typeof value === "string"
                    ? value.replace(
                        /^(\d{4}-\d{2}-\d{2})[ T]00:00:00( ?(Z|\+0000 UTC|\+00:00))?$/,
                        "$1",
                      )
                    : value,
                z.iso.date({
                  error: 'expected the date the exception ends, as "YYYY-MM-DD"',
                }),
              ),
            }),
          )
          .superRefine((exceptions, ctx) => {
            for (const id of Object.keys(exceptions)) {
              if (/^[A-Z][A-Z0-9]*-[A-Za-z0-9-]+$/.test(id)) continue;
              ctx.addIssue({
                code: "custom",
                path: [id],
                input: id,
                message:
                  'expected an advisory id such as "GHSA-2g68-c3qc-8985" or "CVE-2024-34069"',
              });
            }
          }),
      })
      .partial(),
    apps: z.record(appName, appOverride),
    appSecrets: z.record(appName, z.record(envVarName, z.string())),
  })
  .partial();

/** Parsed stack config. */
export type StackConfig = z.infer<typeof stackConfig>;
/** Parsed catalogue. */
export type CatalogueFile = z.infer<typeof catalogueFile>;
/** One app's override block. */
export type AppOverride = z.infer<typeof appOverride>;

/** Stack settings that hold credentials: validated for shape, never echoed in errors. */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  "registryPassword",
  "kubeconfig",
  "appSecrets",
  "pipConf",
]);

/** How a secret reads where it cannot be decrypted (offline checks of a stack file). */
export const SECRET_PLACEHOLDER = "[secret]";

/** Stack settings that hold credentials among plain fields (`signing.key`, `.password`). */
export const PARTLY_SECRET_KEYS: Readonly<Record<string, readonly string[]>> = {
  signing: ["key", "password"],
};

/** Stack settings whose raw config string is the value (no JSON decoding). */
export const STRING_KEYS: ReadonlySet<string> = new Set([
  "environment",
  "registry",
  "registryUsername",
  "registryPassword",
  "pipConf",
  "namespace",
  "kubeconfig",
  "kubeContext",
  "kubeconfigPath",
  "renderDir",
  "catalogue",
  "egress",
]);
