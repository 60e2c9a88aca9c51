/**
 * The digests a stage ran for one app, newest first, kept in the resource's own state: each
 * `up` that deploys a new digest closes the record of the one it replaces and opens one for the
 * new digest (model/promotionGates.ts `recordRun`); a verification result replaces the last
 * one of its digest. The next stage reads the history from this stack's outputs
 * (`apps.<name>.history`) and takes the newest digest that soaked and verified here. An `up`
 * that deploys the same digest with the same verification changes nothing.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  HISTORY_LIMIT,
  recordRun,
  recordVerification,
  type RunRecord,
  type Verification,
} from "../model/promotionGates";

/** Inputs of {@link RunHistory}. */
export interface RunHistoryArgs {
  /** `sha256:...` the stage runs now. */
  digest: pulumi.Input<string>;
  /** Version and git SHA it was built from, when known. */
  version?: pulumi.Input<string>;
  revision?: pulumi.Input<string>;
  /** The last verification of the digest on this stage, when the stage verifies. */
  verification?: pulumi.Input<Verification>;
  /** How many digests to remember. @default HISTORY_LIMIT */
  limit?: pulumi.Input<number>;
}

export interface HistoryInputs {
  digest: string;
  version?: string;
  revision?: string;
  verification?: Verification;
  limit?: number;
}

interface HistoryState extends HistoryInputs {
  history: RunRecord[];
}

/** The state after deploying `news` on top of `previous`, at `now`. Pure. */
export function nextHistory(
  previous: readonly RunRecord[],
  news: HistoryInputs,
  now: Date,
): RunRecord[] {
  let history = recordRun(previous, news.digest, now, news.limit ?? HISTORY_LIMIT, {
    ...(news.version !== undefined ? { version: news.version } : {}),
    ...(news.revision !== undefined ? { revision: news.revision } : {}),
  });
  if (news.verification !== undefined) {
    history = recordVerification(history, news.digest, news.verification);
  }
  return history;
}

/**
 * Whether an `up` changes the history: a new digest, limit or verification result. The same
 * digest deployed again (version and SHA follow it) is no change, so the state never churns.
 */
export function historyChanges(olds: HistoryInputs, news: HistoryInputs): boolean {
  return (
    olds.digest !== news.digest ||
    olds.limit !== news.limit ||
    JSON.stringify(olds.verification ?? null) !== JSON.stringify(news.verification ?? null)
  );
}

const provider: pulumi.dynamic.ResourceProvider = {
  create(inputs: HistoryInputs) {
    return Promise.resolve({
      id: "history",
      outs: { ...inputs, history: nextHistory([], inputs, new Date()) },
    });
  },
  update(_id: string, olds: HistoryState, news: HistoryInputs) {
    return Promise.resolve({
      outs: { ...news, history: nextHistory(olds.history ?? [], news, new Date()) },
    });
  },
  diff(_id: string, olds: HistoryState, news: HistoryInputs) {
    return Promise.resolve({ changes: historyChanges(olds, news) });
  },
};

/** One app's run history on this stage. */
export class RunHistory extends pulumi.dynamic.Resource {
  /** Newest first; the head is what runs now. */
  declare readonly history: pulumi.Output<RunRecord[]>;

  constructor(name: string, args: RunHistoryArgs, opts?: pulumi.CustomResourceOptions) {
    // Output only: the provider keeps it.
    super(provider, name, { ...args, history: undefined }, opts, "pyfleet", "RunHistory");
  }
}
