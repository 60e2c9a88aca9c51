/**
 * Every e2e check, so one import fills the registry (test/unit/e2eChecks.test.ts walks it).
 * A new check file is added here.
 */
export * from "./observed";
export * from "./command";
export * from "./setup";
export * from "./build";
export * from "./runtime";
export * from "./promotion";
export * from "./policy";
export * from "./codeOnly";
export * from "./state";
export * from "./upgrade";
export * from "./completion";
export * from "./cluster";
export * from "./gates";
export * from "./conda";
export * from "./supplyChain";
