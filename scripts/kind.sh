#!/usr/bin/env bash
# kind dev loop for Ferry: a local cluster with Argo Workflows, the chart with its dev
# MinIO, and the demo pipeline. Called by the Makefile's kind-* targets; see
# docs/kubernetes.md. Needs docker and kind on PATH; helm/kubectl come from PATH or
# .tools/bin (make tools).
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER="${KIND_CLUSTER:-ferry}"
NAMESPACE="${KIND_NAMESPACE:-ferry-dev}"
RELEASE="${KIND_RELEASE:-ferry-dev}"
ARGO_VERSION="${ARGO_VERSION:-v4.1.0}"
DEMO_ROWS="${DEMO_ROWS:-20000}"
BUCKET=ferry-dev
PATH="$PWD/.tools/bin:$PATH"
CONTEXT="kind-$CLUSTER"

need() { command -v "$1" >/dev/null || { echo "kind.sh: $1 is not on PATH; $2" >&2; exit 2; }; }

up() {
  need docker "install Docker"
  need kind "install kind (https://kind.sigs.k8s.io)"
  kind get clusters | grep -qx "$CLUSTER" || kind create cluster --name "$CLUSTER" --wait 120s
  kubectl --context "$CONTEXT" create namespace argo --dry-run=client -o yaml | kubectl --context "$CONTEXT" apply -f -
  kubectl --context "$CONTEXT" apply -n argo --server-side \
    -f "https://github.com/argoproj/argo-workflows/releases/download/${ARGO_VERSION}/install.yaml"
  kubectl --context "$CONTEXT" -n argo rollout status deployment/workflow-controller --timeout=180s
  kubectl --context "$CONTEXT" create namespace "$NAMESPACE" --dry-run=client -o yaml | kubectl --context "$CONTEXT" apply -f -
}

image() {
  need kind "install kind"
  kind load docker-image --name "$CLUSTER" "$1"
}

deploy() {
  helm upgrade --install "$RELEASE" charts/ferry --kube-context "$CONTEXT" -n "$NAMESPACE" \
    --create-namespace -f charts/ferry/values-dev.yaml --wait --timeout 5m
}

demo() {
  local data=data/kind-demo forward_pid run_date
  run_date="$(date +%F)"
  .venv/bin/ferry demo-data --rows "$DEMO_ROWS" --files 2 --out "$data"
  kubectl --context "$CONTEXT" -n "$NAMESPACE" port-forward "svc/${RELEASE}-minio" 19000:9000 >/dev/null &
  forward_pid=$!
  trap 'kill "$forward_pid"' EXIT
  for _ in $(seq 1 30); do (exec 3<>/dev/tcp/127.0.0.1/19000) 2>/dev/null && break; sleep 1; done
  AWS_ENDPOINT_URL=http://127.0.0.1:19000 AWS_ACCESS_KEY_ID=minio-dev-user \
    AWS_SECRET_ACCESS_KEY=ferry-dev-password AWS_REGION=us-east-1 \
    .venv/bin/python scripts/s3_upload.py "$data" "$BUCKET/demo-input"
  .venv/bin/ferry submit orders-daily --context "$CONTEXT" -n "$NAMESPACE" --wait \
    -p run_date="$run_date" -p data_dir="s3://$BUCKET/demo-input" -p output_dir="s3://$BUCKET/demo-output"
  kubectl --context "$CONTEXT" -n "$NAMESPACE" get workflows -l workflows.argoproj.io/workflow-template=orders-daily
}

down() {
  need kind "install kind"
  kind delete cluster --name "$CLUSTER"
}

case "${1:-}" in
  up) up ;;
  image) image "${2:?usage: kind.sh image IMAGE:TAG}" ;;
  deploy) deploy ;;
  demo) demo ;;
  down) down ;;
  *) echo "usage: scripts/kind.sh up|image IMAGE:TAG|deploy|demo|down" >&2; exit 2 ;;
esac
