/**
 * docs/CHECKLIST.md is the one definition of the checklist IDs the code, the policy pack and the
 * tests cite. These tests keep it true: every cited ID is defined, the policies it lists for an
 * ID are exactly the pack's policies that declare that ID, and every file it names exists.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { policies } from "../../policy/policies";

const ROOT = path.resolve(__dirname, "..", "..");
const DOC = "docs/CHECKLIST.md";
const ID = /\b[KCDPS]\d{1,2}\b/g;

interface Row {
  id: string;
  /** `settings`, `model`, `policy`, `test` -> the backticked items after the word. */
  where: Map<string, string[]>;
}

function parseDoc(text: string): Row[] {
  const rows: Row[] = [];
  for (const line of text.split("\n")) {
    // Prettier pads the cells, so split on the bars rather than matching exact spacing.
    const cells = line.split("|").map((cell) => cell.trim());
    const m =
      cells.length === 6 && /^[KCDPS]\d{1,2}$/.test(cells[1]!) ? [line, cells[1], cells[4]] : null;
    if (!m) continue;
    const where = new Map<string, string[]>();
    for (const segment of m[2]!.split(";")) {
      const kind = /^\s*(settings|model|policy|test)\b/.exec(segment)?.[1];
      if (!kind)
        throw new Error(`${DOC}: row ${m[1]} has an unknown "Enforced in" part: ${segment}`);
      const items = [...segment.matchAll(/`([^`]+)`/g)].map((x) => x[1]!);
      where.set(kind, [...(where.get(kind) ?? []), ...items]);
    }
    rows.push({ id: m[1]!, where });
  }
  return rows;
}

/** Source and documentation files that may cite checklist IDs. */
function citingFiles(): string[] {
  const roots = ["index.ts", "components", "model", "stacks", "policy", "cli", "ci", "infra"];
  roots.push("test", "bench", "README.md");
  const out: string[] = [];
  const walk = (rel: string): void => {
    const abs = path.join(ROOT, rel);
    if (!existsSync(abs)) return;
    if (statSync(abs).isDirectory()) {
      for (const entry of readdirSync(abs)) {
        if (entry === "node_modules" || entry === "fixtures") continue;
        walk(path.join(rel, entry));
      }
    } else if (/\.(ts|mts|mjs|sh|md)$/.test(rel)) {
      out.push(rel);
    }
  };
  roots.forEach(walk);
  return out;
}

const rows = parseDoc(readFileSync(path.join(ROOT, DOC), "utf8"));
const defined = new Set(rows.map((r) => r.id));

describe(DOC, () => {
  it("defines each ID once", () => {
    expect(rows.length).toBeGreaterThan(50);
    expect(rows.length).toBe(defined.size);
  });

  it("defines every checklist ID the repository cites", () => {
    const undefinedIds: string[] = [];
    for (const file of citingFiles()) {
      const text = readFileSync(path.join(ROOT, file), "utf8");
      for (const m of text.matchAll(ID)) {
        if (!defined.has(m[0])) undefinedIds.push(`${file}: ${m[0]}`);
      }
    }
    expect(undefinedIds).toEqual([]);
  });

  it("lists, per ID, exactly the policies of the pack that declare it", () => {
    const declared = new Map<string, string[]>();
    for (const policy of policies) {
      for (const id of policy.rule.checklist) {
        declared.set(id, [...(declared.get(id) ?? []), policy.name]);
      }
    }
    for (const id of declared.keys()) expect(defined, `policy ID ${id}`).toContain(id);
    for (const row of rows) {
      const listed = (row.where.get("policy") ?? []).filter((item) => !item.includes("/"));
      expect([...listed].sort(), `policies listed for ${row.id}`).toEqual(
        [...(declared.get(row.id) ?? [])].sort(),
      );
    }
  });

  it("names only files that exist", () => {
    const missing = rows.flatMap((row) =>
      [...row.where.values()]
        .flat()
        .filter((item) => item.includes("/") && !existsSync(path.join(ROOT, item)))
        .map((item) => `${row.id}: ${item}`),
    );
    expect(missing).toEqual([]);
  });

  it("says where every check is enforced", () => {
    expect(rows.filter((row) => row.where.size === 0).map((row) => row.id)).toEqual([]);
  });
});
