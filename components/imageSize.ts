/**
 * The pushed image's size, read from the registry by digest with crane: the compressed bytes
 * of its layers and config (for a multi-platform image, its largest platform). With a budget
 * (`build.maxImageSize`), an image above it fails the `up` before any Deployment takes it,
 * naming the app, the size, the budget and the largest layers with the step that made each.
 * The pods take the image reference through this resource, so they wait for the check.
 */
import * as pulumi from "@pulumi/pulumi";
import { craneSession } from "./crane";

/** Inputs of {@link ImageSize}. */
export interface ImageSizeArgs {
  /** App name, for messages. */
  app: string;
  /** Repository with registry host. */
  repository: pulumi.Input<string>;
  /** `sha256:...` digest of the pushed manifest (list). */
  digest: pulumi.Input<string>;
  /** Budget in bytes. @default no budget */
  budgetBytes?: number;
  /** The budget as the user wrote it (`400Mi`), for messages. @default none */
  budget?: string;
  /** Registry user. @default anonymous (or docker's credential helpers) */
  username?: pulumi.Input<string>;
  /** Registry password (a secret). */
  password?: pulumi.Input<string>;
}

/** What the provider receives. */
export interface SizeInputs {
  app: string;
  repository: string;
  digest: string;
  budgetBytes?: number;
  budget?: string;
  username?: string;
  password?: string;
}

/** What it reports. */
export interface SizeOutputs extends SizeInputs {
  /** Compressed bytes of the largest platform's layers and config. */
  bytes: number;
  /** The largest layers: compressed bytes and the Dockerfile step that made each. */
  largest: { bytes: number; step: string }[];
}

/**
 * Reads the size with crane and checks the budget. Self-contained but for the crane session:
 * Pulumi serializes both into the dynamic provider.
 */
export async function measureImage(inputs: SizeInputs): Promise<SizeOutputs> {
  const crane = craneSession(inputs.repository, inputs.username, inputs.password);
  const run = (args: string[]) => crane.run(args);
  interface Descriptor {
    digest: string;
    size: number;
    platform?: { os?: string; architecture?: string };
  }
  interface Manifest {
    manifests?: Descriptor[];
    layers?: Descriptor[];
    config?: Descriptor;
  }
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  try {
    const ref = `${inputs.repository}@${inputs.digest}`;
    const top = JSON.parse(await run(["manifest", ref])) as Manifest;
    // An index: measure each image of a real platform (attestations have os "unknown").
    const images = top.manifests
      ? top.manifests
          .filter((m) => m.platform?.os !== "unknown")
          .map((m) => `${inputs.repository}@${m.digest}`)
      : [ref];
    let bytes = 0;
    let largest: { bytes: number; step: string }[] = [];
    for (const image of images) {
      const manifest = top.manifests
        ? (JSON.parse(await run(["manifest", image])) as Manifest)
        : top;
      const layers = manifest.layers ?? [];
      const total = layers.reduce((n, l) => n + l.size, manifest.config?.size ?? 0);
      if (total < bytes) continue;
      bytes = total;
      // The config's history names the step of each layer (entries without a layer skipped).
      const config = JSON.parse(await run(["config", image])) as {
        history?: { created_by?: string; empty_layer?: boolean }[];
      };
      const steps = (config.history ?? []).filter((h) => !h.empty_layer);
      largest = layers
        .map((l, i) => ({
          bytes: l.size,
          // History and layers line up from the end; a base imported without history has
          // layers that no entry names.
          step: (steps[i - (layers.length - steps.length)]?.created_by ?? "base image layer")
            .replace(/\/bin\/sh -c (#\(nop\) )?/, "")
            .replace(/\s+/g, " ")
            .trim()
            .slice(0, 80),
        }))
        .sort((a, b) => b.bytes - a.bytes)
        .slice(0, 3);
    }
    if (inputs.budgetBytes !== undefined && bytes > inputs.budgetBytes) {
      throw new Error(
        `apps.${inputs.app}: the image ${ref} is ${mib(bytes)} compressed, over its budget ` +
          `build.maxImageSize=${inputs.budget ?? String(inputs.budgetBytes)}; largest layers: ` +
          `${largest.map((l) => `${mib(l.bytes)} (${l.step})`).join(", ")}. Make the image ` +
          "smaller or raise the budget; the running version keeps serving.",
      );
    }
    return { ...inputs, bytes, largest };
  } finally {
    crane.close();
  }
}

const provider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: SizeInputs) {
    const outs = await measureImage(inputs);
    return { id: `${inputs.repository}@${inputs.digest}`, outs };
  },
  async update(_id: string, _olds: SizeInputs, news: SizeInputs) {
    return { outs: await measureImage(news) };
  },
  diff(_id: string, olds: SizeInputs, news: SizeInputs) {
    const changes =
      olds.digest !== news.digest ||
      olds.repository !== news.repository ||
      olds.budgetBytes !== news.budgetBytes;
    return Promise.resolve({ changes, deleteBeforeReplace: false });
  },
};

/** The size of a pushed image, checked against its budget. */
export class ImageSize extends pulumi.dynamic.Resource {
  /** Compressed bytes. */
  declare readonly bytes: pulumi.Output<number>;
  /** The digest measured (the pods take the image through this output). */
  declare readonly digest: pulumi.Output<string>;

  constructor(name: string, args: ImageSizeArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      {
        ...args,
        ...(args.password !== undefined ? { password: pulumi.secret(args.password) } : {}),
        bytes: undefined,
        largest: undefined,
      },
      { ...opts, additionalSecretOutputs: ["password"] },
      "pyfleet",
      "ImageSize",
    );
  }
}
