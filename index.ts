/**
 * pyfleet: Python apps from source to hardened k3s deployments. This file only reads the
 * stack's settings and composes the components; all logic lives in `components/` and `stacks/`.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { AppNamespace } from "./components/appNamespace";
import { isRenderMode, kubernetesProvider } from "./components/cluster";
import { renderDockerfile } from "./components/dockerfile";
import { imagePlan } from "./components/imagePlan";
import { promotedImage, qualifiedStackName, type AppOutput } from "./components/promotion";
import { PythonApp } from "./components/pythonApp";
import { PythonImage } from "./components/pythonImage";
import { loadStack, projectRoot } from "./stacks/load";
import { awaitTimeoutSeconds } from "./stacks/settings";

/** The program: returns the stack outputs (`apps`, `environment`, `namespace`). */
async function program(): Promise<Record<string, unknown>> {
  const loaded = loadStack();
  const { settings } = loaded;
  const root = projectRoot();
  const render = isRenderMode(settings.cluster);

  const provider = kubernetesProvider("k8s", {
    target: settings.cluster,
    ...(loaded.kubeconfig ? { kubeconfig: loaded.kubeconfig } : {}),
  });
  const credentials =
    settings.registry.username !== undefined && loaded.registryPassword !== undefined
      ? {
          server: settings.registry.server,
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
      ...(credentials ? { pullCredentials: credentials } : {}),
    },
    { providers: { kubernetes: provider } },
  );

  const source =
    settings.images.mode === "promote"
      ? new pulumi.StackReference(`source-${settings.images.fromStack}`, {
          name: qualifiedStackName(
            settings.images.organization,
            settings.project,
            settings.images.fromStack,
          ),
        })
      : undefined;
  const sourceApps = source
    ? ((await source.getOutputDetails("apps")).value as Record<string, AppOutput> | undefined)
    : undefined;

  const apps: Record<string, pulumi.Output<AppOutput>> = {};
  for (const app of settings.apps) {
    let image: pulumi.Output<string>;
    let digest: pulumi.Output<string>;
    let repository: string;
    let tags: pulumi.Output<string[]>;
    let version = app.version;
    let revision = app.revision?.sha;
    let origin: AppOutput["source"];

    if (settings.images.mode === "build") {
      const plan = imagePlan({
        app,
        environment: settings.environment,
        registry: settings.registry,
        build: settings.build,
        tags: settings.tags,
        ...(loaded.sourceUrl ? { sourceUrl: loaded.sourceUrl } : {}),
      });
      const built = new PythonImage(`${app.name}-image`, {
        context: path.join(root, app.path),
        dockerfile: renderDockerfile(plan.dockerfile),
        repository: plan.repository,
        tags: plan.tags.tags,
        platforms: app.build.platforms,
        target: app.build.target,
        buildArgs: plan.buildArgs,
        labels: plan.labels,
        push: settings.build.push,
        buildOnPreview: settings.build.buildOnPreview,
        registryCache: settings.build.registryCache,
        network: settings.build.network,
        ...(credentials
          ? {
              registry: {
                address: credentials.server,
                username: credentials.username,
                password: credentials.password,
              },
            }
          : {}),
        ...(loaded.pipConf ? { pipConf: loaded.pipConf } : {}),
      });
      image = built.ref;
      digest = built.digest;
      repository = plan.repository;
      tags = built.tags;
      origin = { stack: settings.stack, kind: "build" };
    } else {
      const promoted = promotedImage(
        app.name,
        settings.images.fromStack,
        sourceApps,
        settings.images.pins,
      );
      image = pulumi.output(promoted.image);
      digest = pulumi.output(promoted.digest);
      repository = promoted.repository;
      tags = pulumi.output([]);
      version = promoted.version;
      revision = promoted.revision;
      origin = { ...promoted.source };
    }

    const deployed = new PythonApp(
      app.name,
      {
        app: { ...app, ...(version !== undefined ? { version } : {}) },
        environment: settings.environment,
        namespace: namespace.name,
        rollout: settings.rollout,
        image,
        createSecrets: !render,
        ...(loaded.appSecrets[app.name] ? { secretEnv: loaded.appSecrets[app.name] } : {}),
        ...(namespace.pullSecretName ? { pullSecretName: namespace.pullSecretName } : {}),
        awaitTimeoutSeconds: awaitTimeoutSeconds(settings),
        egressOpen: settings.egressOpen,
      },
      { providers: { kubernetes: provider } },
    );

    apps[app.name] = pulumi
      .all([image, digest, tags, deployed.url, namespace.name])
      .apply(([imageRef, digestValue, tagRefs, url, ns]) => ({
        image: imageRef,
        digest: digestValue,
        repository,
        ...(version !== undefined ? { version } : {}),
        ...(revision !== undefined ? { revision } : {}),
        tags: tagRefs,
        ...(url !== undefined ? { url } : {}),
        namespace: ns,
        source: origin,
      }));
  }

  return {
    environment: settings.environment,
    namespace: namespace.name,
    manifests:
      render && settings.cluster.mode === "render" ? settings.cluster.directory : undefined,
    apps,
  };
}

export = program;
