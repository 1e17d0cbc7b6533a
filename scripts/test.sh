#!/usr/bin/env bash
# Runs Gatehouse's whole test suite on a Debian machine with Go installed:
# installs what the tests need (Debian's chromium for the browser test,
# redis-server for the shared cache, which the tests start themselves),
# then gofmt, go vet, the race-enabled tests, and a short fuzzing pass over
# every parser. Fails loudly if anything is missing; nothing is skipped.
#
#   bash scripts/test.sh               # everything
#   FUZZTIME=0 bash scripts/test.sh    # skip the fuzzing pass (seed corpora still run)
#   FUZZTIME=2m bash scripts/test.sh   # fuzz longer
#
# The default is a count of executions, not a duration: with a duration,
# Go 1.26's fuzz coordinator can fail a target with a spurious "context
# deadline exceeded" at the deadline (go.dev/issue/75804, fixed in 1.27).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
FUZZTIME="${FUZZTIME:-100000x}"

step() { printf '\n=== %s\n' "$*"; }

# Debian packages the tests talk to. Root installs them; anyone else is told.
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    step "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "missing Debian packages: ${need[*]}; install them with: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
fi

step "go mod download"
go mod download

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))
if [ -n "$unformatted" ]; then
  echo "these files need gofmt:" >&2
  echo "$unformatted" >&2
  exit 1
fi

step "go vet"
go vet ./...

step "go test -race"
go test -race -count=1 -timeout 15m ./...

# The listeners' engine is Gatehouse's own by default; the end-to-end
# suite runs once more on net/http's (engine: stdlib, the way back), so
# both engines pass every test. (package server's tests run both already.)
step "go test -race ./e2e/ on the stdlib engine"
GATEHOUSE_ENGINE=stdlib go test -race -count=1 -timeout 15m ./e2e/

if [ "$FUZZTIME" != "0" ]; then
  step "fuzzing each parser for $FUZZTIME"
  # Every Fuzz target in the module, found rather than listed, so a new one
  # is fuzzed without editing this script.
  grep -rl --include='*_test.go' '^func Fuzz' . | while read -r f; do
    pkg="./$(dirname "${f#./}")"
    for fn in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | cut -d' ' -f2); do
      echo "--- $pkg $fn"
      go test -run='^$' -fuzz="^${fn}\$" -fuzztime="$FUZZTIME" "$pkg"
    done
  done
fi

step "all tests passed"
