/**
 * The pyfleet CrossGuard policy pack: the checks of CHECKLIST.md that can be judged from the
 * resources a stack registers. Advisory by default; `config/<stack>.json` sets the enforcement
 * level and the environment per stack (mandatory in staging and prod).
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("pyfleet", { policies, enforcementLevel: "advisory" });
