#!/usr/bin/env bash
# Installs what the Helm chart's tests need into .local/bin, from the Go module proxy (no binary
# downloads): helm, built with `go install`, and k8s-validate (deploy/tools/k8s-validate), which
# checks rendered manifests offline against the Kubernetes API types. Idempotent: a tool already
# at the wanted version is kept, so only the first run on a machine builds (several minutes on
# two cores for helm). Needs Go 1.25 or later.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

HELM_VERSION=v4.3.2
BIN="$ROOT/.local/bin"
VALIDATOR_SRC="$ROOT/deploy/tools/k8s-validate"
mkdir -p "$BIN"

command -v go >/dev/null 2>&1 || fail "Go is required to build helm and k8s-validate (go not found)"

# One installer at a time (the tests may call this while scripts/test.sh does).
exec 9>"$BIN/.install-k8s-tools.lock"
flock 9

have_helm=$("$BIN/helm" version --template '{{.Version}}' 2>/dev/null || true)
if [ "$have_helm" != "$HELM_VERSION" ]; then
  say "building helm $HELM_VERSION with go install (once per machine; a few minutes)"
  GOBIN="$BIN" GOFLAGS=-buildvcs=false nice -n 10 go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
fi

# Rebuilt whenever its sources change.
want_validator=$(cd "$VALIDATOR_SRC" && cat go.mod go.sum ./*.go | sha256sum | cut -d' ' -f1)
have_validator=$(cat "$BIN/.k8s-validate.sha256" 2>/dev/null || true)
if [ ! -x "$BIN/k8s-validate" ] || [ "$want_validator" != "$have_validator" ]; then
  say "building k8s-validate (deploy/tools/k8s-validate)"
  (cd "$VALIDATOR_SRC" && GOFLAGS="-buildvcs=false -mod=readonly" nice -n 10 go build -trimpath -ldflags "-s -w" -o "$BIN/k8s-validate" .)
  echo "$want_validator" >"$BIN/.k8s-validate.sha256"
fi

say "k8s tools: $("$BIN/helm" version --template 'helm {{.Version}}'), $("$BIN/k8s-validate" -version)"
