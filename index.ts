/**
 * pyfleet: Python apps from source to hardened k3s deployments. This file reads the stack's
 * settings and composes the components; the logic lives in `components/` and `stacks/`.
 */
import * as pulumi from "@pulumi/pulumi";
import { AppNamespace } from "./components/appNamespace";
import { isRenderMode, kubernetesProvider, rolloutDiagnosis } from "./components/cluster";
import {
  PromotionRefused,
  checkPromotions,
  promotedImage,
  qualifiedStackName,
  type AppOutput,
} from "./model/promotion";
import { summarize, type Evidence } from "./model/supplyChain";
import { verifyPromotedDigests } from "./components/supplyChain";
import { PythonApp } from "./components/pythonApp";
import { AppRelease } from "./components/appRelease";
import { loadStack, projectRoot } from "./stacks/load";
import { SettingsError } from "./stacks/problems";
import { awaitTimeoutSeconds } from "./stacks/settings";

/** The program; its return value is the stack outputs (`apps`, `environment`, `namespace`). */
async function program(): Promise<Record<string, unknown>> {
  try {
    return await compose();
  } catch (error) {
    // Bad input is the user's to fix: the engine prints a RunError once, without a stack trace.
    if (error instanceof SettingsError || error instanceof PromotionRefused) {
      throw new pulumi.RunError(error.message);
    }
    throw error;
  }
}

async function compose(): Promise<Record<string, unknown>> {
  const loaded = loadStack();
  const { settings } = loaded;
  const render = isRenderMode(settings.cluster);

  let sourceApps: Record<string, AppOutput> | undefined;
  if (settings.images.mode === "promote") {
    const { organization, fromStack } = settings.images;
    const source = new pulumi.StackReference(`source-${fromStack}`, {
      name: qualifiedStackName(organization, settings.project, fromStack),
    });
    sourceApps = (await source.getOutputDetails("apps")).value as typeof sourceApps;
    // Every app's digest is settled before any object is created, so a missing app or a
    // guard violation fails the update with nothing changed.
    checkPromotions(settings, sourceApps);
  }
  // Each promoted digest's signature, SBOM attestation and advisories, checked the same way
  // before anything is created; rollbacks too (they skip the soak, never the signature).
  let verified: Record<string, Evidence> = {};
  if (settings.images.mode === "promote" && loaded.publicKey !== undefined) {
    const images = settings.images;
    verified = verifyPromotedDigests({
      images: Object.fromEntries(
        settings.apps.map((app) => [
          app.name,
          promotedImage(app.name, images.fromStack, sourceApps, images).image,
        ]),
      ),
      publicKey: loaded.publicKey,
      ...(settings.signing.publicKey !== undefined
        ? { publicKeyPath: settings.signing.publicKey }
        : {}),
      ...(loaded.vulnerabilityDatabase !== undefined
        ? { database: loaded.vulnerabilityDatabase }
        : {}),
      policy: settings.vulnerabilities,
      ...(settings.registry.username !== undefined ? { username: settings.registry.username } : {}),
      ...(loaded.registryPasswordNow !== undefined ? { password: loaded.registryPasswordNow } : {}),
      fromStack: images.fromStack,
    });
  }

  const k8s = {
    providers: {
      kubernetes: kubernetesProvider("k8s", {
        target: settings.cluster,
        ...(loaded.kubeconfig ? { kubeconfig: loaded.kubeconfig } : {}),
      }),
    },
  };
  const credentials =
    settings.registry.username !== undefined && loaded.registryPassword !== undefined
      ? {
          address: settings.registry.server,
          username: settings.registry.username,
          password: loaded.registryPassword,
        }
      : undefined;

  const namespace = new AppNamespace(
    settings.namespace,
    {
      name: settings.namespace,
      environment: settings.environment,
      createSecrets: !render,
      // The claims outlive the stack (PythonApp retains them); so must the namespace holding them.
      retainOnDelete: settings.apps.some((app) => app.volumes.length > 0),
      ...(credentials ? { pullCredentials: { ...credentials, server: credentials.address } } : {}),
    },
    k8s,
  );

  // One error hook for every Deployment: a rollout that fails says why, from the cluster.
  const diagnosis = await rolloutDiagnosis(settings.cluster, loaded.kubeconfig);
  const apps: Record<string, pulumi.Output<AppOutput>> = {};
  for (const app of settings.apps) {
    const release = new AppRelease(app.name, {
      app,
      settings,
      root: projectRoot(),
      ...(credentials ? { credentials } : {}),
      ...(loaded.pipConf ? { pipConf: loaded.pipConf } : {}),
      ...(loaded.sourceUrl ? { sourceUrl: loaded.sourceUrl } : {}),
      ...(sourceApps ? { sourceApps } : {}),
      supplyChain: {
        ...(loaded.signingKey ? { signingKey: loaded.signingKey } : {}),
        ...(loaded.publicKey !== undefined ? { publicKey: loaded.publicKey } : {}),
        ...(loaded.vulnerabilityDatabase !== undefined
          ? { database: loaded.vulnerabilityDatabase }
          : {}),
        ...(verified[app.name] !== undefined ? { verified: verified[app.name] } : {}),
      },
    });
    const evidence = release.evidence
      ? pulumi
          .all([
            release.evidence.signed,
            release.evidence.signer,
            release.evidence.sbom,
            release.evidence.vulnerabilities,
          ])
          .apply(([signed, signer, sbom, vulnerabilities]) => {
            if (vulnerabilities !== undefined && vulnerabilities.findings.length > 0) {
              void pulumi.log.warn(`app "${app.name}": ${summarize(vulnerabilities)}`);
            }
            return { signed, signer, sbom, ...(vulnerabilities ? { vulnerabilities } : {}) };
          })
      : undefined;
    const { version, revision, repository, source, build } = release;
    const deployed = new PythonApp(
      app.name,
      {
        app: { ...app, ...(version !== undefined ? { version } : {}) },
        environment: settings.environment,
        namespace: namespace.name,
        rollout: settings.rollout,
        image: release.image,
        digest: release.digest,
        ...(revision !== undefined ? { revision } : {}),
        createSecrets: !render,
        live: !render,
        ...(loaded.appSecrets[app.name] ? { secretEnv: loaded.appSecrets[app.name] } : {}),
        ...(namespace.pullSecretName ? { pullSecretName: namespace.pullSecretName } : {}),
        awaitTimeoutSeconds: awaitTimeoutSeconds(settings),
        egressOpen: settings.egressOpen,
        ...(diagnosis ? { rolloutDiagnosis: diagnosis } : {}),
        ...(settings.verification.enabled && !render
          ? {
              verification: {
                ...(settings.verification.via !== undefined
                  ? { via: settings.verification.via }
                  : {}),
              },
            }
          : {}),
      },
      k8s,
    );
    // Only what is still to come is lifted (each Output costs Pulumi's lifting dozens of
    // promises, for every app); what the settings already say goes in as it is.
    apps[app.name] = pulumi
      .output({
        image: release.image,
        digest: release.digest,
        tags: release.tags,
        history: deployed.history,
        promotedAt: release.promotedAt,
        size: release.size,
        supplyChain: evidence,
      })
      .apply(({ image, digest, tags, history, promotedAt, size, supplyChain }) => ({
        image,
        digest,
        repository,
        ...(version !== undefined ? { version } : {}),
        ...(revision !== undefined ? { revision } : {}),
        tags,
        ...(deployed.url !== undefined ? { url: deployed.url } : {}),
        namespace: settings.namespace,
        source: { ...source, ...(promotedAt !== undefined ? { promotedAt } : {}) },
        ...(build !== undefined ? { build } : {}),
        ...(size !== undefined ? { size } : {}),
        ...(release.gates !== undefined ? { gates: release.gates } : {}),
        history,
        ...(supplyChain !== undefined ? { supplyChain } : {}),
      }));
  }

  return {
    environment: settings.environment,
    namespace: namespace.name,
    ...(settings.cluster.mode === "render" ? { manifests: settings.cluster.directory } : {}),
    apps,
  };
}

export = program;
