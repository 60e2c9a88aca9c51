/**
 * The end-to-end scenarios in the order they run: later ones use what earlier ones made
 * (dev's outputs, its state), and destroy comes last but for the upgrade, which works on a
 * backend and a project copy of its own.
 */
import type { Scenario } from "../lib/context";
import { badConfig } from "./badConfig";
import { codeOnly } from "./codeOnly";
import { condaFlavour } from "./condaFlavour";
import { destroy } from "./destroy";
import { engine } from "./engine";
import { imageRuntime } from "./imageRuntime";
import { policy } from "./policy";
import { preview } from "./preview";
import { promotion } from "./promotion";
import { registryTags } from "./registryTags";
import { supplyChain } from "./supplyChain";
import { upDev } from "./upDev";
import { upgrade } from "./upgrade";

/** Every scenario, in running order. */
export const SCENARIOS: readonly Scenario[] = [
  engine,
  preview,
  upDev,
  registryTags,
  imageRuntime,
  promotion,
  policy,
  codeOnly,
  condaFlavour,
  badConfig,
  supplyChain,
  destroy,
  upgrade,
];
