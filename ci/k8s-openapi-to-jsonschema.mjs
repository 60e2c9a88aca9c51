#!/usr/bin/env node
// Turns the official Kubernetes OpenAPI v3 documents (api/openapi-spec/v3/*.json in the
// kubernetes source tree of one release) into standalone, strict JSON schemas, one file per
// kind, in the layout kubeconform reads with
//   -schema-location "<dir>/{{.ResourceKind}}{{.KindSuffix}}.json"
// e.g. deployment-apps-v1.json, service-v1.json, ingress-networking-v1.json.
//
// Usage: node ci/k8s-openapi-to-jsonschema.mjs <openapi-v3-dir> <out-dir>
//
// What "strict" means here, and why:
// - every object that declares `properties` gets `additionalProperties: false`, so a misspelt
//   or misplaced field (`imagePullPolcy`) is an error instead of being dropped silently by the
//   API server's decoder (kubeconform's -strict only rejects duplicate keys by itself);
// - `$ref`s are inlined, so each file stands alone (no network, no sibling files); a type that
//   refers back to itself (apiextensions JSONSchemaProps) is kept once under `definitions`;
// - int-or-string becomes `type: [integer, string]` and Quantity `type: [string, number]`
//   (plain type lists give shorter error messages than oneOf);
// - int32 fields get their int32 bounds, which the API server also enforces;
// - a field that is not required may be `null` (the API server treats null as unset; generated
//   YAML often carries `creationTimestamp: null`);
// - apiVersion and kind are pinned to the file's group/version/kind.
// Descriptions, defaults and x-kubernetes-* hints are dropped: they do not validate anything.
// An OpenAPI keyword this script does not know stops the conversion, so a newer spec cannot
// silently produce a weaker schema.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const DEF_PREFIX = "#/definitions/";
const REF_PREFIX = "#/components/schemas/";

/** Keywords that carry no validation and are dropped. */
const IGNORED = new Set(["description", "default", "example", "externalDocs", "discriminator"]);
/** Keywords handled below. */
const HANDLED = new Set([
  "$ref",
  "allOf",
  "oneOf",
  "anyOf",
  "type",
  "format",
  "enum",
  "properties",
  "required",
  "items",
  "additionalProperties",
  "nullable",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "pattern",
]);

function fail(message) {
  process.stderr.write(`k8s-openapi-to-jsonschema: ${message}\n`);
  process.exit(2);
}

function loadDefinitions(dir) {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort();
  if (files.length === 0) fail(`no *.json OpenAPI documents in ${dir}`);
  const defs = new Map();
  for (const file of files) {
    const doc = JSON.parse(readFileSync(join(dir, file), "utf8"));
    for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
      const seen = defs.get(name);
      if (!seen) {
        defs.set(name, structuredClone(schema));
        continue;
      }
      // Each group's document lists only its own group-version-kinds for the shared types
      // (DeleteOptions, WatchEvent); everything else must be identical across documents.
      const { "x-kubernetes-group-version-kind": gvks = [], ...rest } = schema;
      const { "x-kubernetes-group-version-kind": seenGvks = [], ...seenRest } = seen;
      if (JSON.stringify(rest) !== JSON.stringify(seenRest)) {
        fail(`${name} differs between documents (second one: ${file})`);
      }
      const merged = [...seenGvks];
      for (const g of gvks) {
        if (
          !merged.some((m) => m.group === g.group && m.version === g.version && m.kind === g.kind)
        ) {
          merged.push(g);
        }
      }
      if (merged.length > 0) seen["x-kubernetes-group-version-kind"] = merged;
    }
  }
  return defs;
}

/** kubeconform's {{.ResourceKind}}{{.KindSuffix}}: kind, first label of the group, version. */
function fileName({ group, version, kind }) {
  const groupPart = group ? `-${group.split(".")[0].toLowerCase()}` : "";
  return `${kind.toLowerCase()}${groupPart}-${version.toLowerCase()}.json`;
}

class Converter {
  constructor(defs) {
    this.defs = defs;
  }

  /** Converts the definition `name` into a standalone schema. */
  document(name) {
    this.local = new Map(); // definitions kept by reference because they recurse
    const root = this.definition(name, []);
    // Converting a kept definition can reveal more of them: repeat until none is pending.
    for (let pending = true; pending;) {
      pending = false;
      for (const [n, schema] of this.local) {
        if (schema === null) {
          this.local.set(n, this.definition(n, []));
          pending = true;
        }
      }
    }
    if (this.local.size > 0) {
      root.definitions = Object.fromEntries([...this.local.entries()].sort());
    }
    return root;
  }

  definition(name, stack) {
    const def = this.defs.get(name);
    if (!def) fail(`unresolved reference ${name}`);
    return this.node(def, [...stack, name], `${name}`);
  }

  ref(ref, stack, where) {
    if (!ref.startsWith(REF_PREFIX)) fail(`${where}: unsupported $ref ${ref}`);
    const name = ref.slice(REF_PREFIX.length);
    if (stack.includes(name)) {
      if (!this.local.has(name)) this.local.set(name, null);
      return { $ref: `${DEF_PREFIX}${name}` };
    }
    return this.definition(name, stack);
  }

  /** Converts one OpenAPI schema node; `where` names it in error messages. */
  node(src, stack, where) {
    for (const key of Object.keys(src)) {
      if (!HANDLED.has(key) && !IGNORED.has(key) && !key.startsWith("x-")) {
        fail(`${where}: unknown OpenAPI keyword "${key}"`);
      }
    }
    if (src.$ref) return this.ref(src.$ref, stack, where);
    // Kubernetes wraps a $ref in allOf so that it can carry its own description and default.
    if (src.allOf) {
      if (src.allOf.length === 1 && !src.type && !src.properties) {
        return this.node(src.allOf[0], stack, where);
      }
      return { allOf: src.allOf.map((s, i) => this.node(s, stack, `${where}.allOf[${i}]`)) };
    }

    const out = {};
    const alternatives = src.oneOf ?? src.anyOf;
    if (src.format === "int-or-string" || src["x-kubernetes-int-or-string"] === true) {
      out.type = ["integer", "string"];
    } else if (alternatives) {
      const plain = alternatives.every(
        (a) => Object.keys(a).length === 1 && typeof a.type === "string",
      );
      if (plain) out.type = alternatives.map((a) => a.type);
      else out.anyOf = alternatives.map((s, i) => this.node(s, stack, `${where}.oneOf[${i}]`));
    } else if (src.type !== undefined) {
      out.type = src.type;
    }

    switch (src.format) {
      case "int32":
        out.minimum = INT32_MIN;
        out.maximum = INT32_MAX;
        break;
      case "date-time":
        out.format = "date-time";
        break;
      default:
        // int64 and double are what JSON numbers are anyway; byte (base64) is checked by the
        // API server, which also accepts line breaks that a pattern would have to allow.
        break;
    }
    for (const key of [
      "enum",
      "minimum",
      "maximum",
      "minLength",
      "maxLength",
      "minItems",
      "maxItems",
      "pattern",
    ]) {
      if (src[key] !== undefined) out[key] = src[key];
    }

    if (src.properties) {
      const required = new Set(src.required ?? []);
      out.properties = {};
      for (const [prop, schema] of Object.entries(src.properties)) {
        const converted = this.node(schema, stack, `${where}.${prop}`);
        out.properties[prop] = required.has(prop) ? converted : nullable(converted);
      }
    }
    if (src.required?.length) out.required = [...src.required];
    if (src.items) out.items = this.node(src.items, stack, `${where}[]`);

    const preserveUnknown = src["x-kubernetes-preserve-unknown-fields"] === true;
    if (src.additionalProperties !== undefined && src.additionalProperties !== false) {
      out.additionalProperties =
        src.additionalProperties === true
          ? true
          : this.node(src.additionalProperties, stack, `${where}{}`);
    } else if (src.additionalProperties === false || (src.properties && !preserveUnknown)) {
      out.additionalProperties = false;
    }
    return out;
  }
}

/** Lets a schema also accept null, without touching a schema shared with other places. */
function nullable(schema) {
  if (schema.$ref) return { anyOf: [schema, { type: "null" }] };
  if (schema.type === undefined) {
    // No type means any value (RawExtension-like); anyOf/allOf lists get a null alternative.
    if (schema.anyOf) return { ...schema, anyOf: [...schema.anyOf, { type: "null" }] };
    if (schema.allOf) return { anyOf: [schema, { type: "null" }] };
    return schema;
  }
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  return types.includes("null") ? schema : { ...schema, type: [...types, "null"] };
}

function main() {
  const [inDir, outDir] = process.argv.slice(2);
  if (!inDir || !outDir) fail("usage: k8s-openapi-to-jsonschema.mjs <openapi-v3-dir> <out-dir>");
  const defs = loadDefinitions(inDir);
  const converter = new Converter(defs);
  mkdirSync(outDir, { recursive: true });
  const written = new Map();
  for (const [name, def] of [...defs.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    for (const gvk of def["x-kubernetes-group-version-kind"] ?? []) {
      const file = fileName(gvk);
      if (written.has(file)) fail(`${file} would come from both ${written.get(file)} and ${name}`);
      written.set(file, name);
      const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
      const schema = converter.document(name);
      if (schema.properties?.apiVersion)
        schema.properties.apiVersion = { type: "string", enum: [apiVersion] };
      if (schema.properties?.kind) schema.properties.kind = { type: "string", enum: [gvk.kind] };
      writeFileSync(join(outDir, file), `${JSON.stringify(schema, null, 1)}\n`);
    }
  }
  if (written.size === 0) fail(`no kinds (x-kubernetes-group-version-kind) found in ${inDir}`);
  process.stdout.write(`${written.size} schemas written to ${outDir}\n`);
}

main();
