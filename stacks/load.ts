/**
 * The one place that reads the outside world: Pulumi config, project files and git. It feeds
 * `resolveSettings` and reads credentials as Pulumi secrets.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import {
  configFilesName,
  localSettingsPath,
  readLocalSettings,
  withLocalSettings,
} from "./localSettings";
import { projectSources, sourceRepositoryUrl } from "./projectFiles";
import { resolveSettings } from "./settings";
import type { Settings } from "./types";

/** Config namespace of every pyfleet setting. */
export const NAMESPACE = "pyfleet";

/** Settings plus the secrets that must stay Outputs. */
export interface LoadedStack {
  /** Validated settings. */
  settings: Settings;
  /** Registry password (secret). */
  registryPassword?: pulumi.Output<string>;
  /** Kubeconfig contents (secret). */
  kubeconfig?: pulumi.Output<string>;
  /** pip.conf for private indexes (secret). */
  pipConf?: pulumi.Output<string>;
  /** Secret environment per app (secret). */
  appSecrets: Record<string, pulumi.Output<Record<string, string>>>;
  /** Source repository URL, for OCI labels. */
  sourceUrl?: string;
  /** The cosign private key and its password (secret), where the stack signs. */
  signingKey?: pulumi.Output<{ key: string; password: string }>;
  /** The cosign public key's PEM, where one is configured. */
  publicKey?: string;
  /** Absolute folder of the OSV database, where one is configured. */
  vulnerabilityDatabase?: string;
  /**
   * The registry password in the clear, for the verification the program runs before it
   * registers anything (it goes only to a private docker config the tools read).
   */
  registryPasswordNow?: string;
}

/** The project root: the folder holding Pulumi.yaml. */
export function projectRoot(): string {
  return path.resolve(__dirname, "..");
}

/** Reads and validates the current stack's settings. Throws `SettingsError` on bad input. */
export function loadStack(root: string = projectRoot()): LoadedStack {
  const prefix = `${NAMESPACE}:`;
  const config: Record<string, string> = {};
  const secretKeys = new Set<string>();
  const isSecret = (runtimeConfig as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
  for (const [key, value] of Object.entries(runtimeConfig.allConfig())) {
    if (!key.startsWith(prefix)) continue;
    const short = key.slice(prefix.length);
    config[short] = value;
    if (isSecret?.(key)) secretKeys.add(short);
  }

  // The local engine's settings (written by the quick start) apply to every command alike.
  const local = localSettingsPath(root, pulumi.getStack());
  const settings = resolveSettings({
    stack: pulumi.getStack(),
    project: pulumi.getProject(),
    config: local ? withLocalSettings(config, readLocalSettings(local)) : config,
    configFiles: configFilesName(pulumi.getStack(), local),
    secretConfigKeys: secretKeys,
    ...projectSources(root),
  });

  const pyfleet = new pulumi.Config(NAMESPACE);
  const appSecrets: Record<string, pulumi.Output<Record<string, string>>> = {};
  const allSecrets = pyfleet.getSecretObject<Record<string, Record<string, string>>>("appSecrets");
  for (const app of settings.apps) {
    if (app.secretNames.length > 0 && allSecrets) {
      appSecrets[app.name] = pulumi.secret(allSecrets.apply((all) => all[app.name] ?? {}));
    }
  }
  const registryPassword = pyfleet.getSecret("registryPassword");
  const kubeconfig = pyfleet.getSecret("kubeconfig");
  const pipConf = pyfleet.getSecret("pipConf");
  const sourceUrl = sourceRepositoryUrl(root);
  const signing = settings.signing.signs
    ? pyfleet
        .requireSecretObject<{ key: string; password?: string }>("signing")
        .apply((s) => ({ key: s.key, password: s.password ?? "" }))
    : undefined;
  const publicKey =
    settings.signing.publicKey !== undefined
      ? readFileSync(path.join(root, settings.signing.publicKey), "utf8")
      : undefined;
  const database = settings.vulnerabilities.database;
  const passwordNow = runtimeConfig.allConfig()[`${prefix}registryPassword`];
  return {
    settings,
    appSecrets,
    ...(registryPassword ? { registryPassword } : {}),
    ...(kubeconfig ? { kubeconfig } : {}),
    ...(pipConf ? { pipConf } : {}),
    ...(sourceUrl ? { sourceUrl } : {}),
    ...(signing ? { signingKey: signing } : {}),
    ...(publicKey !== undefined ? { publicKey } : {}),
    ...(database !== undefined ? { vulnerabilityDatabase: path.resolve(root, database) } : {}),
    ...(passwordNow !== undefined ? { registryPasswordNow: passwordNow } : {}),
  };
}

/** Re-exported: tools and tests read a folder's git state through the I/O module. */
export { gitRevisions } from "./projectFiles";
