import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { smokeRequests } from "../../components/pythonApp";
import { verify } from "../../components/smokeCheck";
import { offlineSettings } from "../../stacks/offline";

/** An ingress stand-in: answers by Host header and path; `/flaky` fails its first two calls. */
let server: http.Server;
let base = "";
let flaky = 0;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    const ok =
      req.headers.host === "vectors.staging.localhost" &&
      (req.url === "/ready" || (req.url === "/flaky" && ++flaky > 2));
    res.writeHead(ok ? 200 : req.url === "/flaky" ? 503 : 404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const at = () => new Date(Date.UTC(2026, 11, 1, 12, 0));
const host = "vectors.staging.localhost";

describe("verification through the Ingress", () => {
  it("passes when every path answers 2xx with the Ingress host", async () => {
    expect(await verify({ digest: "d", requests: [{ url: `${base}/ready`, host }] }, at)).toEqual({
      passed: true,
      at: at().toISOString(),
      failures: [],
    });
  });

  it("retries a path that is not routed yet, and names what failed", async () => {
    const v = await verify(
      {
        digest: "d",
        attempts: 3,
        requests: [
          { url: `${base}/flaky`, host },
          { url: `${base}/ready`, host: "other.localhost" },
          { url: "http://127.0.0.1:9/ready", host },
        ],
      },
      at,
    );
    expect(v.passed).toBe(false);
    expect(v.failures).toEqual([
      `GET ${base}/ready (Host other.localhost) answered 404 after 3 tries`,
      `GET http://127.0.0.1:9/ready (Host ${host}) no answer after 3 tries`,
    ]);
  }, 20_000);

  it("asks each app's readiness and smoke path, via the ingress address or its public URL", () => {
    process.env["PYFLEET_LOCAL_SETTINGS"] = "none";
    const vectors = offlineSettings("staging").apps.find((a) => a.name === "vectors")!;
    expect(smokeRequests(vectors, { via: "http://127.0.0.1:8088" })).toEqual([
      { url: "http://127.0.0.1:8088/ready", host: "vectors.staging.localhost" },
    ]);
    const smoked = { ...vectors, health: { ...vectors.health, smokePath: "/search?q=1" } };
    expect(smokeRequests(smoked, {}).map((r) => r.url)).toEqual([
      "http://vectors.staging.localhost/ready",
      "http://vectors.staging.localhost/search?q=1",
    ]);
    const hidden = { ...vectors, ingress: { enabled: false } };
    expect(smokeRequests(hidden, {})).toEqual([]);
  });
});
