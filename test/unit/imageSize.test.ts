import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { CRANE_VARIABLE } from "../../components/crane";
import { measureImage } from "../../components/imageSize";

const dir = mkdtempSync(path.join(tmpdir(), "pyfleet-size-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => delete process.env[CRANE_VARIABLE]);

const REPO = "127.0.0.1:5000/pyfleet/vectors";
const D = (c: string) => `sha256:${c.repeat(64)}`;
const MiB = 2 ** 20;

/** A crane answering `manifest` and `config` from fixed documents, by reference. */
function fakeCrane(answers: Record<string, unknown>): void {
  const cases = Object.entries(answers)
    .map(([ref, doc]) => `  *" ${ref}") echo '${JSON.stringify(doc)}' ;;`)
    .join("\n");
  const file = path.join(dir, "crane");
  writeFileSync(
    file,
    `#!/bin/sh\ncase " $*" in\n${cases}\n  *) echo "MANIFEST_UNKNOWN" >&2; exit 1 ;;\nesac\n`,
  );
  chmodSync(file, 0o755);
  process.env[CRANE_VARIABLE] = file;
}

const image = (layers: number[]) => ({
  config: { digest: D("c"), size: 1000 },
  layers: layers.map((size, i) => ({ digest: D(String(i)), size })),
});
const config = {
  history: [
    { created_by: "/bin/sh -c #(nop) ADD file:base in /" },
    { created_by: "ENV PYTHONUNBUFFERED=1", empty_layer: true },
    { created_by: "RUN /bin/sh -c python3 -m venv /opt/venv && pip install -r requirements.txt" },
    { created_by: "COPY --chmod=u=rwX,go=rX . . # buildkit" },
  ],
};

describe("ImageSize", () => {
  it("measures a multi-platform image by its largest platform, attestations left out", async () => {
    fakeCrane({
      [`manifest ${REPO}@${D("a")}`]: {
        manifests: [
          { digest: D("1"), size: 1, platform: { os: "linux", architecture: "amd64" } },
          { digest: D("2"), size: 1, platform: { os: "linux", architecture: "arm64" } },
          { digest: D("3"), size: 1, platform: { os: "unknown", architecture: "unknown" } },
        ],
      },
      [`manifest ${REPO}@${D("1")}`]: image([30 * MiB, 60 * MiB, 1 * MiB]),
      [`manifest ${REPO}@${D("2")}`]: image([28 * MiB, 50 * MiB, 1 * MiB]),
      [`config ${REPO}@${D("1")}`]: config,
    });
    const out = await measureImage({ app: "vectors", repository: REPO, digest: D("a") });
    expect(out.bytes).toBe(91 * MiB + 1000);
    expect(out.largest).toEqual([
      { bytes: 60 * MiB, step: "RUN python3 -m venv /opt/venv && pip install -r requirements.txt" },
      { bytes: 30 * MiB, step: "ADD file:base in /" },
      { bytes: 1 * MiB, step: "COPY --chmod=u=rwX,go=rX . . # buildkit" },
    ]);
  });

  it("fails above the budget, naming the app, the size, the budget and the largest layers", async () => {
    fakeCrane({
      [`manifest ${REPO}@${D("a")}`]: image([30 * MiB, 60 * MiB]),
      // A base imported without history: its layer is named as such.
      [`config ${REPO}@${D("a")}`]: { history: config.history.slice(1, 3) },
    });
    const budget = { budget: "64Mi", budgetBytes: 64 * MiB };
    await expect(
      measureImage({ app: "vectors", repository: REPO, digest: D("a"), ...budget }),
    ).rejects.toThrow(
      `apps.vectors: the image ${REPO}@${D("a")} is 90.0 MiB compressed, over its budget ` +
        "build.maxImageSize=64Mi; largest layers: 60.0 MiB (RUN python3 -m venv /opt/venv && " +
        "pip install -r requirements.txt), 30.0 MiB (base image layer). Make the image smaller " +
        "or raise the budget; the running version keeps serving.",
    );
    const roomy = { budget: "128Mi", budgetBytes: 128 * MiB };
    await expect(
      measureImage({ app: "vectors", repository: REPO, digest: D("a"), ...roomy }),
    ).resolves.toMatchObject({ bytes: 90 * MiB + 1000 });
  });

  it("says what crane said when the registry lacks the digest", async () => {
    fakeCrane({});
    await expect(
      measureImage({ app: "vectors", repository: REPO, digest: D("f") }),
    ).rejects.toThrow(/crane manifest .*: MANIFEST_UNKNOWN/);
  });
});
