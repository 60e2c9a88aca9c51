/**
 * Verification of a rollout where users meet it: once the Deployment is Ready, GET each of the
 * app's checked paths (its readiness path, and its declared smoke path) through its Ingress,
 * with the Ingress host as Host header, and record which answered 2xx. The result is the
 * digest's verification on this stage (components/runHistory.ts), which the next stage's
 * gates read. It runs again when the digest or the checks change, or on
 * `pulumi up --replace <urn>` (a re-verification; a failure un-verifies the digest).
 */
import * as http from "node:http";
import * as https from "node:https";
import * as pulumi from "@pulumi/pulumi";
import type { Verification } from "../model/promotionGates";

/** One request of a verification. */
export interface SmokeRequest {
  /** Where to send it: `http://127.0.0.1:8088/ready` (the ingress address) or the public URL. */
  url: string;
  /** Host header: the Ingress host. */
  host: string;
}

/** Inputs of {@link SmokeCheck}. */
export interface SmokeCheckArgs {
  /** The digest being verified (a new one verifies again). */
  digest: pulumi.Input<string>;
  requests: pulumi.Input<pulumi.Input<SmokeRequest>[]>;
  /** Tries per request before it counts as failed (one second apart). @default 15 */
  attempts?: pulumi.Input<number>;
}

interface SmokeInputs {
  digest: string;
  requests: SmokeRequest[];
  attempts?: number;
}

/** Status of one GET (0 when nothing answered), within `timeoutMs`. */
function statusOf(request: SmokeRequest, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const url = new URL(request.url);
    const client = url.protocol === "https:" ? https : http;
    const req = client.get(
      url,
      { headers: { host: request.host }, timeout: timeoutMs, servername: request.host },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(0));
  });
}

/**
 * Runs every request, each up to `attempts` times one second apart (a fresh Ingress route can
 * take a moment to reach the controller), and says what failed. Bounded: at most
 * `attempts` x (5 s + 1 s) per request.
 */
export async function verify(inputs: SmokeInputs, now = () => new Date()): Promise<Verification> {
  const attempts = Math.max(1, inputs.attempts ?? 15);
  const failures: string[] = [];
  for (const request of inputs.requests) {
    let status = 0;
    for (let i = 0; i < attempts; i++) {
      status = await statusOf(request, 5000);
      if (status >= 200 && status < 300) break;
      if (i < attempts - 1) await new Promise((r) => setTimeout(r, 1000));
    }
    if (status < 200 || status >= 300) {
      const answer = status === 0 ? "no answer" : `answered ${status}`;
      failures.push(`GET ${request.url} (Host ${request.host}) ${answer} after ${attempts} tries`);
    }
  }
  return { passed: failures.length === 0, at: now().toISOString(), failures };
}

const provider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: SmokeInputs) {
    return { id: "verification", outs: { ...inputs, verification: await verify(inputs) } };
  },
  async update(_id: string, _olds: SmokeInputs, news: SmokeInputs) {
    return { outs: { ...news, verification: await verify(news) } };
  },
  diff(_id: string, olds: SmokeInputs, news: SmokeInputs) {
    const changes =
      olds.digest !== news.digest ||
      olds.attempts !== news.attempts ||
      JSON.stringify(olds.requests) !== JSON.stringify(news.requests);
    return Promise.resolve({ changes });
  },
};

/** The verification of one app's rollout on this stage. */
export class SmokeCheck extends pulumi.dynamic.Resource {
  declare readonly verification: pulumi.Output<Verification>;

  constructor(name: string, args: SmokeCheckArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, { ...args, verification: undefined }, opts, "pyfleet", "SmokeCheck");
  }
}
