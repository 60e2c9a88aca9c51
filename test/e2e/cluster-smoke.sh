#!/usr/bin/env bash
# Smoke proof of the local cluster (infra/cluster.sh): what pyfleet relies on,
# shown against the real API server, kubelet and add-ons, not rendered YAML.
#
#   1. a pod from an image pushed to the loopback registry, pulled by digest,
#      admitted by an enforce=restricted namespace, Ready;
#   2. an Ingress answering 200 on 127.0.0.1 through Traefik with a Host header;
#   3. a pod that breaks the restricted profile refused by admission;
#   4. a PVC bound by local-path and written by a restricted pod;
#   5. metrics-server answering `kubectl top`;
#   6. a NetworkPolicy blocking a pod of another namespace (that reached the app
#      before the policy), while Traefik still gets through.
#
# Usage: test/e2e/cluster-smoke.sh   (the cluster runs: infra/cluster.sh start)
# Prints one PASS/FAIL line per check and `N passed, N failed`; exit 1 on a failure.
# Environment: PYFLEET_REGISTRY_PORT (default 5000), PYFLEET_SMOKE_KEEP=1 keeps the
# namespaces for a look afterwards, PYFLEET_CLUSTER_* as infra/cluster.sh.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
registry_port=${PYFLEET_REGISTRY_PORT:-5000}
ns=pyfleet-smoke
other=pyfleet-smoke-other
host=web.smoke.pyfleet.test

env_lines=$(bash "$repo/infra/cluster.sh" env) || {
  echo "the cluster is not running: start it with infra/cluster.sh start (npm run cluster -- start)" >&2
  exit 2
}
KUBECONFIG=$(sed -n 's/^KUBECONFIG=//p' <<<"$env_lines")
ingress=$(sed -n 's/^PYFLEET_INGRESS=//p' <<<"$env_lines")
export KUBECONFIG
kubectl="$(bash "$repo/infra/cluster/build.sh" --bin kubernetes)/kubectl"
k() { "$kubectl" --request-timeout=30s "$@"; }

passed=0
failed=0
pass() {
  echo "PASS $*"
  passed=$((passed + 1))
}
fail() {
  echo "FAIL $*"
  failed=$((failed + 1))
}
cleanup() {
  if [[ ${PYFLEET_SMOKE_KEEP:-} != 1 ]]; then
    k delete namespace "$ns" "$other" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
work=$(mktemp -d "${TMPDIR:-/tmp}/cluster-smoke.XXXXXX")
trap cleanup EXIT

# poll SECONDS CMD...: CMD until it succeeds or SECONDS pass (bounded, 1 s apart)
poll() {
  local n=$1 i
  shift
  for ((i = 0; i < n; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  return 1
}

# --- the image: busybox httpd as uid 10001, pushed to the loopback registry ---
echo '<h1>pyfleet smoke</h1>' >"$work/index.html"
image=$(python3 "$repo/infra/cluster/image.py" push --registry "127.0.0.1:$registry_port" \
  --repo pyfleet-smoke/web --tag smoke \
  --file /bin/busybox:/bin/busybox:0755 --file "$work/index.html:/www/index.html:0644" \
  --link /bin/sh:busybox --link /bin/nc:busybox --link /bin/sleep:busybox --dir /tmp:1777 \
  --entrypoint '["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]' --user 10001:10001) || {
  echo "cannot push the smoke image to 127.0.0.1:$registry_port (start the registry: infra/local-infra.sh start)" >&2
  exit 2
}
[[ $image == *@sha256:* ]] || {
  echo "the registry returned no digest: $image" >&2
  exit 2
}
echo "image: $image"

restricted_ctx='securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }'

k delete namespace "$ns" "$other" --ignore-not-found --wait=true >/dev/null 2>&1
k apply -f - >/dev/null <<EOF || exit 2
apiVersion: v1
kind: Namespace
metadata:
  name: $ns
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: latest
---
apiVersion: v1
kind: Namespace
metadata: { name: $other }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: $ns }
spec:
  replicas: 1
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      automountServiceAccountToken: false
      securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: { type: RuntimeDefault } }
      containers:
        - name: web
          image: $image
          ports: [{ containerPort: 8080 }]
          readinessProbe: { httpGet: { path: /, port: 8080 }, periodSeconds: 2 }
          livenessProbe: { httpGet: { path: /, port: 8080 }, periodSeconds: 10 }
          resources: { requests: { cpu: 10m, memory: 16Mi }, limits: { memory: 32Mi } }
          $restricted_ctx
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: $ns }
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web, namespace: $ns }
spec:
  ingressClassName: traefik
  rules:
    - host: $host
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: { service: { name: web, port: { number: 80 } } }
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: data, namespace: $ns }
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: local-path
  resources: { requests: { storage: 16Mi } }
---
apiVersion: v1
kind: Pod
metadata: { name: writer, namespace: $ns }
spec:
  automountServiceAccountToken: false
  restartPolicy: Never
  securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: { type: RuntimeDefault } }
  containers:
    - name: writer
      image: $image
      command: ["/bin/sh", "-c", "echo ok > /data/proof && cat /data/proof"]
      resources: { requests: { cpu: 10m, memory: 16Mi }, limits: { memory: 32Mi } }
      volumeMounts: [{ name: data, mountPath: /data }]
      $restricted_ctx
  volumes: [{ name: data, persistentVolumeClaim: { claimName: data } }]
---
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: $other }
spec:
  containers:
    - name: client
      image: $image
      command: ["/bin/sleep", "3600"]
      resources: { requests: { cpu: 10m, memory: 16Mi }, limits: { memory: 32Mi } }
EOF

# 1. Ready from the loopback registry, by digest, in a restricted namespace
t0=$(date +%s)
if k -n "$ns" wait --for=condition=Available deployment/web --timeout=120s >/dev/null; then
  got=$(k -n "$ns" get pods -l app=web -o jsonpath='{.items[0].status.containerStatuses[0].imageID}')
  if [[ $got == *"${image#*@}" ]]; then
    pass "restricted pod Ready in $(($(date +%s) - t0)) s, image pulled by digest ($got)"
  else
    fail "pod Ready but its imageID '$got' is not the pushed digest ${image#*@}"
  fi
else
  fail "deployment web not Available in 120 s: $(k -n "$ns" get pods -o wide 2>&1 | tail -n +2)"
fi

# 2. Ingress through Traefik on host loopback
code() { curl -s -o /dev/null -w '%{http_code}' -m 5 -H "Host: $1" "$ingress/"; }
answers_200() { [[ $(code "$host") == 200 ]]; }
if poll 60 answers_200; then
  other_code=$(code nothing.pyfleet.test)
  if [[ $other_code == 404 ]]; then
    pass "Ingress $host answers 200 at $ingress through Traefik (an unknown host gets $other_code)"
  else
    fail "Ingress answers 200, but an unknown host gets $other_code, not Traefik's 404"
  fi
else
  fail "Ingress $host at $ingress: $(code "$host") after 60 s, expected 200"
fi

# 3. Pod Security admission refuses a pod that breaks restricted
out=$(k -n "$ns" run rogue --image="$image" --restart=Never \
  --overrides='{"spec":{"containers":[{"name":"rogue","image":"'"$image"'","securityContext":{"allowPrivilegeEscalation":true}}]}}' 2>&1)
if [[ $out == *'violates PodSecurity "restricted:latest"'* && $out == *allowPrivilegeEscalation* ]]; then
  pass "admission refused a non-compliant pod: ${out#*forbidden: }"
else
  fail "a pod with allowPrivilegeEscalation=true was not refused as expected: $out"
fi

# 4. PVC bound by local-path, written by a restricted pod
writer_done() { [[ $(k -n "$ns" get pod writer -o jsonpath='{.status.phase}') == Succeeded ]]; }
if poll 90 writer_done; then
  phase=$(k -n "$ns" get pvc data -o jsonpath='{.status.phase}')
  sc=$(k get pv "$(k -n "$ns" get pvc data -o jsonpath='{.spec.volumeName}')" -o jsonpath='{.spec.storageClassName}')
  logs=$(k -n "$ns" logs writer)
  if [[ $phase == Bound && $sc == local-path && $logs == ok ]]; then
    pass "PVC Bound by local-path and written through the mount"
  else
    fail "PVC phase '$phase', class '$sc', writer said '$logs'"
  fi
else
  fail "writer pod did not succeed in 90 s: pvc $(k -n "$ns" get pvc data -o jsonpath='{.status.phase}'), pod $(k -n "$ns" get pod writer -o jsonpath='{.status.phase}')"
fi

# 5. metrics-server answers kubectl top
if poll 120 k -n "$ns" top pod -l app=web --no-headers; then
  pass "kubectl top: $(k -n "$ns" top pod -l app=web --no-headers | head -1 | tr -s ' ')"
else
  fail "kubectl top pod gave no metrics in 120 s: $(k -n "$ns" top pod 2>&1 | tail -1)"
fi

# 6. NetworkPolicy: the other namespace reaches the app before, not after; Traefik still does
# busybox-static's wget crashes in a bare image (static glibc without NSS); its nc does not.
url=http://web.$ns.svc.cluster.local/
reach() {
  k -n "$other" exec client -- /bin/sh -c \
    "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | /bin/nc -w 3 web.$ns.svc.cluster.local 80 | head -n 1" | grep -q ' 200 '
}
blocked() { ! reach; }
if ! k -n "$other" wait --for=condition=Ready pod/client --timeout=60s >/dev/null; then
  fail "client pod in $other not Ready"
elif ! poll 20 reach; then
  fail "before any policy, the client in $other cannot reach $url (DNS or service routing broken), so a block would prove nothing"
else
  k apply -f - >/dev/null <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: web, namespace: $ns }
spec:
  podSelector: { matchLabels: { app: web } }
  policyTypes: [Ingress]
  ingress:
    - from:
        - namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: kube-system } }
          podSelector: { matchLabels: { app.kubernetes.io/name: traefik } }
EOF
  if poll 30 blocked; then
    if poll 20 answers_200; then
      pass "NetworkPolicy blocks $other -> $ns; Traefik still answers 200"
    else
      fail "NetworkPolicy blocks $other, but Traefik gets $(code "$host") too"
    fi
  else
    fail "NetworkPolicy applied, but the client in $other still reaches $url after 30 s"
  fi
fi

echo "$passed passed, $failed failed"
((failed == 0))
