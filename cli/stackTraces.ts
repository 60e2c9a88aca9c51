/**
 * Pulumi's Node.js SDK takes a stack trace for every promise it creates (to name leaked
 * promises) and for every resource (its source position), and reads `.stack` at once, so each
 * trace is formatted when taken. Under ts-node, formatting goes through its source-map support,
 * which maps every frame back to TypeScript: that mapping was half of the program's evaluation
 * time. The commands that host the program turn it off unless someone is debugging.
 */
import { url as inspectorUrl } from "node:inspector";

/** Set to 1 to keep TypeScript positions in stack traces (slower evaluation). */
export const SOURCE_MAPS_VARIABLE = "PYFLEET_SOURCE_MAPS";

/**
 * Formats stack traces the way V8 does natively (positions in the transpiled JavaScript),
 * unless `PYFLEET_SOURCE_MAPS=1` is set or a debugger/inspector is attached. Returns whether
 * source-mapped traces were kept.
 */
export function useNativeStackTraces(): boolean {
  const debugging =
    process.env[SOURCE_MAPS_VARIABLE] === "1" ||
    inspectorUrl() !== undefined ||
    process.execArgv.some((arg) => arg.startsWith("--inspect"));
  if (debugging) return true;
  // Node formats the trace itself when no user hook is installed; ts-node's is the only one.
  (Error as { prepareStackTrace?: unknown }).prepareStackTrace = undefined;
  return false;
}
