/**
 * The commands' stack-trace mode: a source-mapping hook (ts-node's) is removed unless someone
 * asks for TypeScript positions, and traces are still in V8's format that Pulumi parses.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SOURCE_MAPS_VARIABLE, useNativeStackTraces } from "../../cli/stackTraces";

type Hook = ((error: Error, frames: NodeJS.CallSite[]) => unknown) | undefined;
/** Error's static hook, read as a plain property (it is one: V8 looks it up per trace). */
const errorHooks = Error as unknown as { prepareStackTrace: Hook };
const hook: Hook = () => "mapped";
let saved: Hook;
let savedVariable: string | undefined;

beforeEach(() => {
  saved = errorHooks.prepareStackTrace;
  savedVariable = process.env[SOURCE_MAPS_VARIABLE];
  delete process.env[SOURCE_MAPS_VARIABLE];
  errorHooks.prepareStackTrace = hook;
});

afterEach(() => {
  errorHooks.prepareStackTrace = saved;
  if (savedVariable === undefined) delete process.env[SOURCE_MAPS_VARIABLE];
  else process.env[SOURCE_MAPS_VARIABLE] = savedVariable;
});

describe("useNativeStackTraces", () => {
  it("drops the source-mapping hook outside debugging", () => {
    expect(new Error("x").stack).toBe("mapped");
    expect(useNativeStackTraces()).toBe(false);
    expect(errorHooks.prepareStackTrace).toBeUndefined();
    // The "at fn (file:line:column)" frames Pulumi reads a resource's source position from.
    expect(new Error("x").stack).toMatch(/^Error: x\n\s+at .*stackTraces\.test\.ts:\d+:\d+/);
  });

  it(`keeps it when ${SOURCE_MAPS_VARIABLE}=1`, () => {
    process.env[SOURCE_MAPS_VARIABLE] = "1";
    expect(useNativeStackTraces()).toBe(true);
    expect(errorHooks.prepareStackTrace).toBe(hook);
    expect(new Error("x").stack).toBe("mapped");
  });
});
