/**
 * The checks of the project's security and reliability checklist (K1-K27, C1-C7), asserted on
 * the objects a whole-program run created. One `it` per check, so a failure names the rule.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { SHUTDOWN_SECONDS } from "../../model/workload";
import {
  ALLOWED_ADDED_CAPABILITIES,
  ALLOWED_VOLUME_TYPES,
  DIGEST_REF_PATTERN,
  DROPPED_CAPABILITIES,
  HPA_MIN_REPLICAS,
  MIN_SURGE,
  MUTABLE_TAG,
  POD_SECURITY_LABELS,
  REQUIRED_APP_LABELS,
  ROLLING_UPDATE,
  SCRATCH_MOUNT_PATH,
  SECCOMP_PROFILE,
  SECRET_NAME_PATTERN,
  SYSTEM_NAMESPACES,
  minimumReplicas,
} from "../../policy/vocabulary";
import { DEFAULT_UID } from "../../stacks/environments";
import type { Recorded } from "./mocks";
import { ofType } from "./mocks";
import type { ProgramRun } from "./program";

type Obj = any;

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";

function podSpec(d: Recorded): Obj {
  return (d.inputs as Obj).spec.template.spec;
}
function containers(d: Recorded): Obj[] {
  return podSpec(d).containers as Obj[];
}
function nameOf(r: Recorded): string {
  return String((r.state as Obj).metadata?.name);
}
function finalUser(dockerfile: string): string | undefined {
  const finalStage = dockerfile.split(/^FROM /m).pop() ?? "";
  return /^USER (.+)$/m.exec(finalStage)?.[1];
}

/** Declares the checklist tests for one stack's program run. */
export function checklistSuite(stack: string, getRun: () => ProgramRun): void {
  const strictEnv = stack !== "dev";
  describe(`checklist on the ${stack} stack`, () => {
    const deployments = () => ofType(getRun().recorded, DEPLOYMENT);
    const each = (fn: (d: Recorded, c: Obj) => void) => {
      const all = deployments();
      expect(all.length).toBeGreaterThan(0);
      for (const d of all) for (const c of containers(d)) fn(d, c);
    };

    it("K1 no privileged container", () =>
      each((_d, c) => expect(c.securityContext?.privileged ?? false).toBe(false)));
    it("K2 no privilege escalation", () =>
      each((_d, c) => expect(c.securityContext.allowPrivilegeEscalation).toBe(false)));
    it("K3 runAsNonRoot", () =>
      each((d, c) => {
        expect(c.securityContext.runAsNonRoot).toBe(true);
        expect(podSpec(d).securityContext.runAsNonRoot).toBe(true);
      }));
    it("K4 runs as the image's numeric non-root uid", () => {
      const images = ofType(getRun().recorded, "docker-build:index:Image");
      each((d, c) => {
        expect(c.securityContext.runAsUser).toBeGreaterThan(0);
        expect(c.securityContext.runAsGroup).toBeGreaterThan(0);
        const image = images.find((i) => i.name === `${d.name}-image`);
        const expected = image
          ? finalUser(String((image.inputs as Obj).dockerfile.inline))
          : `${DEFAULT_UID}:${DEFAULT_UID}`;
        expect(`${c.securityContext.runAsUser}:${c.securityContext.runAsGroup}`).toBe(expected);
      });
    });
    it("K5 drops ALL capabilities, adds at most NET_BIND_SERVICE", () =>
      each((_d, c) => {
        expect(c.securityContext.capabilities.drop).toEqual(DROPPED_CAPABILITIES);
        for (const cap of c.securityContext.capabilities.add ?? []) {
          expect(ALLOWED_ADDED_CAPABILITIES).toContain(cap);
        }
      }));
    it("K6 RuntimeDefault seccomp", () =>
      each((d, c) => {
        expect(c.securityContext.seccompProfile.type).toBe(SECCOMP_PROFILE);
        expect(podSpec(d).securityContext.seccompProfile.type).toBe(SECCOMP_PROFILE);
      }));
    it("K7 no host namespaces, host ports or hostPath", () =>
      each((d, c) => {
        const spec = podSpec(d);
        expect(spec.hostNetwork ?? false).toBe(false);
        expect(spec.hostPID ?? false).toBe(false);
        expect(spec.hostIPC ?? false).toBe(false);
        for (const p of c.ports ?? []) expect(p.hostPort).toBeUndefined();
        for (const v of spec.volumes ?? []) expect(v.hostPath).toBeUndefined();
      }));
    it("K8 only allowed volume types", () =>
      each((d) => {
        for (const v of podSpec(d).volumes ?? []) {
          const kinds = Object.keys(v).filter((k) => k !== "name");
          expect(kinds.every((k) => ALLOWED_VOLUME_TYPES.includes(k))).toBe(true);
        }
      }));
    it("K10 read-only root filesystem with an emptyDir at /tmp", () =>
      each((d, c) => {
        expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
        const tmp = (c.volumeMounts as Obj[]).find((m) => m.mountPath === SCRATCH_MOUNT_PATH);
        expect(tmp).toBeDefined();
        const volume = (podSpec(d).volumes as Obj[]).find((v) => v.name === tmp.name);
        expect(volume.emptyDir).toBeDefined();
      }));
    it("K11 cpu and memory requests, memory limit >= request", () =>
      each((_d, c) => {
        expect(c.resources.requests.cpu).toMatch(/^\d/);
        expect(c.resources.requests.memory).toMatch(/^\d/);
        expect(c.resources.limits.memory).toMatch(/^\d/);
      }));
    it("K12 image pinned by digest, never latest", () =>
      each((_d, c) => {
        expect(c.image).toMatch(DIGEST_REF_PATTERN);
        expect(c.image).not.toContain(`:${MUTABLE_TAG}`);
      }));
    it("K13 pull policy consistent with digests", () =>
      each((_d, c) => expect(c.imagePullPolicy).toBe("IfNotPresent")));
    it("K14 readiness probe on an absolute path or exec", () =>
      each((_d, c) => {
        const probe = c.readinessProbe;
        expect(probe).toBeDefined();
        if (probe.httpGet) expect(probe.httpGet.path).toMatch(/^\//);
        else expect(probe.exec.command.length).toBeGreaterThan(0);
      }));
    it("K15 liveness probe no more frequent than readiness", () =>
      each((_d, c) => {
        expect(c.livenessProbe).toBeDefined();
        expect(c.livenessProbe.periodSeconds).toBeGreaterThanOrEqual(
          c.readinessProbe.periodSeconds,
        );
      }));
    it("K16 startup probe budget covers the slowest start", () =>
      each((d, c) => {
        const budget = c.startupProbe.failureThreshold * c.startupProbe.periodSeconds;
        expect(budget).toBeGreaterThanOrEqual(60);
        if (d.name === "dashboard") expect(budget).toBeGreaterThanOrEqual(120);
        if (d.name === "science") expect(budget).toBeGreaterThanOrEqual(120);
      }));
    it("K17 at least two replicas outside dev", () => {
      const hpas = ofType(getRun().recorded, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler");
      for (const d of deployments()) {
        const hpa = hpas.find((h) => h.name === d.name);
        const replicas = hpa
          ? (hpa.inputs as Obj).spec.minReplicas
          : (d.inputs as Obj).spec.replicas;
        expect(replicas).toBeGreaterThanOrEqual(Math.max(1, minimumReplicas(stack)));
      }
    });
    it("K18 RollingUpdate with maxUnavailable 0 and maxSurge >= 1", () =>
      each((d) => {
        const strategy = (d.inputs as Obj).spec.strategy;
        expect(strategy.type).toBe("RollingUpdate");
        expect(strategy.rollingUpdate.maxUnavailable).toBe(ROLLING_UPDATE.maxUnavailable);
        expect(strategy.rollingUpdate.maxSurge).toBeGreaterThanOrEqual(MIN_SURGE);
      }));
    it("K19 minReadySeconds > 0 and a progress deadline", () =>
      each((d) => {
        const spec = (d.inputs as Obj).spec;
        expect(spec.minReadySeconds).toBeGreaterThan(0);
        expect(spec.progressDeadlineSeconds).toBeGreaterThan(spec.minReadySeconds);
      }));
    it("K20 preStop drain shorter than the termination grace period", () =>
      each((d, c) => {
        const drain = Number(c.lifecycle.preStop.exec.command[1]);
        expect(drain).toBeGreaterThan(0);
        expect(podSpec(d).terminationGracePeriodSeconds).toBe(drain + SHUTDOWN_SECONDS);
      }));
    it("K21 topology spread across nodes when replicas > 1", () =>
      each((d) => {
        const spec = (d.inputs as Obj).spec;
        const replicas = spec.replicas ?? 2;
        const spread = podSpec(d).topologySpreadConstraints;
        if (replicas > 1) {
          expect(spread[0]).toMatchObject({
            topologyKey: "kubernetes.io/hostname",
            whenUnsatisfiable: "ScheduleAnyway",
          });
        }
      }));
    it("K22 own ServiceAccount without a token", () => {
      const accounts = ofType(getRun().recorded, "kubernetes:core/v1:ServiceAccount");
      each((d) => {
        const spec = podSpec(d);
        expect(spec.automountServiceAccountToken).toBe(false);
        const account = accounts.find((a) => nameOf(a) === spec.serviceAccountName);
        expect(account).toBeDefined();
        expect((account!.inputs as Obj).automountServiceAccountToken).toBe(false);
      });
    });
    it("K23 no literal secret values in env", () =>
      each((_d, c) => {
        for (const e of c.env ?? []) {
          if (SECRET_NAME_PATTERN.test(String(e.name))) expect(e.value).toBeUndefined();
        }
      }));
    it("K24 selector labels are a subset of the template labels", () =>
      each((d) => {
        const spec = (d.inputs as Obj).spec;
        const labels = spec.template.metadata.labels;
        for (const [k, v] of Object.entries(spec.selector.matchLabels)) expect(labels[k]).toBe(v);
        for (const key of REQUIRED_APP_LABELS) expect(labels[key]).toBeDefined();
      }));
    it("K25 no skipAwait anywhere", () => {
      for (const r of getRun().recorded) {
        const annotations = (r.inputs as Obj).metadata?.annotations ?? {};
        expect(annotations["pulumi.com/skipAwait"]).toBeUndefined();
      }
    });
    it("K26 namespace is neither default nor kube-system", () => {
      for (const r of getRun().recorded.filter((x) => x.type.startsWith("kubernetes:"))) {
        const ns = (r.inputs as Obj).metadata?.namespace;
        if (ns !== undefined) expect(SYSTEM_NAMESPACES).not.toContain(ns);
      }
    });

    it("C1 PDB selects the pods and allows one disruption", () => {
      const pdbs = ofType(getRun().recorded, "kubernetes:policy/v1:PodDisruptionBudget");
      if (strictEnv) expect(pdbs.length).toBe(deployments().length);
      for (const pdb of pdbs) {
        const d = deployments().find((x) => x.name === pdb.name)!;
        const labels = (d.inputs as Obj).spec.template.metadata.labels;
        const spec = (pdb.inputs as Obj).spec;
        for (const [k, v] of Object.entries(spec.selector.matchLabels)) expect(labels[k]).toBe(v);
        expect(spec.maxUnavailable).toBeGreaterThanOrEqual(1);
        expect(spec.minAvailable).toBeUndefined();
      }
    });
    it("C2 default-deny ingress plus allows from Traefik and declared peers only", () => {
      const policies = ofType(getRun().recorded, "kubernetes:networking.k8s.io/v1:NetworkPolicy");
      const deny = policies.find((p) => (p.inputs as Obj).metadata.name === "default-deny-ingress");
      expect((deny!.inputs as Obj).spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"] });
      for (const d of deployments()) {
        const policy = policies.find((p) => p.name === d.name)!;
        for (const rule of (policy.inputs as Obj).spec.ingress ?? []) {
          for (const peer of rule.from) {
            expect(peer.namespaceSelector.matchLabels["kubernetes.io/metadata.name"]).toBeDefined();
            expect(peer.ipBlock).toBeUndefined();
          }
        }
      }
    });
    it("C3 namespace enforces the restricted Pod Security profile", () => {
      const [ns] = ofType(getRun().recorded, "kubernetes:core/v1:Namespace");
      const labels = (ns!.inputs as Obj).metadata.labels;
      expect(labels).toMatchObject(POD_SECURITY_LABELS);
    });
    it("C4 Services are ClusterIP and select their pods", () => {
      for (const svc of ofType(getRun().recorded, "kubernetes:core/v1:Service")) {
        const spec = (svc.inputs as Obj).spec;
        expect(spec.type).toBe("ClusterIP");
        const d = deployments().find((x) => x.name === svc.name)!;
        const labels = (d.inputs as Obj).spec.template.metadata.labels;
        for (const [k, v] of Object.entries(spec.selector)) expect(labels[k]).toBe(v);
      }
    });
    it("C5 Ingress targets the Service port; TLS on public hosts", () => {
      const services = ofType(getRun().recorded, "kubernetes:core/v1:Service");
      for (const ing of ofType(getRun().recorded, "kubernetes:networking.k8s.io/v1:Ingress")) {
        const spec = (ing.inputs as Obj).spec;
        expect(spec.ingressClassName).toBe("traefik");
        const rule = spec.rules[0];
        const backend = rule.http.paths[0].backend.service;
        const svc = services.find((s) => nameOf(s) === backend.name)!;
        expect((svc.inputs as Obj).spec.ports.map((p: Obj) => p.name)).toContain(backend.port.name);
        if (!String(rule.host).endsWith(".localhost")) {
          expect(spec.tls[0].hosts).toEqual([rule.host]);
        }
      }
    });
    it("C6 HPAs target their Deployment with minReplicas >= 2", () => {
      for (const hpa of ofType(
        getRun().recorded,
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
      )) {
        const spec = (hpa.inputs as Obj).spec;
        const d = deployments().find((x) => x.name === hpa.name)!;
        expect(spec.scaleTargetRef).toEqual({
          apiVersion: "apps/v1",
          kind: "Deployment",
          name: nameOf(d),
        });
        expect(spec.minReplicas).toBeGreaterThanOrEqual(HPA_MIN_REPLICAS);
      }
    });
    it("C7 no secret-looking keys in ConfigMaps", () => {
      for (const cm of ofType(getRun().recorded, "kubernetes:core/v1:ConfigMap")) {
        for (const key of Object.keys((cm.inputs as Obj).data ?? {})) {
          expect(key).not.toMatch(SECRET_NAME_PATTERN);
        }
      }
    });
  });
}

/**
 * K27 and the independent checkers: the manifests this stack would apply, validated strictly
 * against the pinned Kubernetes schema (kubeconform) and scored by kube-score.
 */
export function manifestToolSuite(stack: string, getDir: () => string): void {
  describe(`independent checkers on the ${stack} manifests`, () => {
    it("K27 passes the strict Kubernetes schema and kube-score with no critical finding", () => {
      const script = path.resolve(__dirname, "..", "..", "ci", "check-manifests.sh");
      const result = spawnSync("bash", [script, getDir()], { encoding: "utf8" });
      const output = `${result.stdout}\n${result.stderr}`;
      expect(output).toMatch(/kubeconform/);
      expect(result.status, output).toBe(0);
    });
  });
}
