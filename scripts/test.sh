#!/usr/bin/env bash
# The one test command (README: `npm test`; CI: .ci/run). Installs nothing globally.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci
# Browser tests drive Debian's Chromium (Playwright cannot download browsers here);
# verdicts are tested on real third-party libraries, from Debian for /usr/bin/python3
# (PyPI is out of reach).
debs=()
if [ -z "${LOOPLAG_CHROMIUM:-}" ] && ! [ -x /usr/bin/chromium ]; then debs+=(chromium); fi
for pkg in python3-numpy python3-pydantic python3-lxml python3-fastapi python3-uvicorn python3-markdown python3-yaml; do
  dpkg -s "$pkg" >/dev/null 2>&1 || debs+=("$pkg")
done
if [ ${#debs[@]} -gt 0 ]; then
  echo "== installing from Debian: ${debs[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${debs[@]}" >/dev/null
fi
node esbuild.mjs --tests
npx tsc --noEmit -p . && npx tsc --noEmit -p src/webview/tsconfig.json
echo "== unit (TypeScript)"
node --test --test-reporter=spec out/test/unit/
echo "== sidecar (Python unittest, real interpreter)"
python3 -m unittest discover -s test/sidecar/python -v
echo "== free-threaded CPython 3.13t (built once from Debian's source into .cache/python-ft)"
# The free-threaded comparison's tests need one; building it takes ~4-6 min the first time.
if ft=$(bash scripts/free-threaded-python.sh); then
  export LOOPLAG_TEST_FREE_THREADED="$ft"
else
  echo "!! no free-threaded Python: its tests will skip"
fi
echo "== sidecar (real python3 through the engine and CLI)"
node --test --test-concurrency=1 --test-reporter=spec out/test/sidecar/
echo "== report UI (real Chromium, reports from the real engine)"
node --test --test-concurrency=1 --test-reporter=spec out/test/webview/
echo "== end to end (code-server)"
# A real VS Code: code-server and Node 24 in the git-ignored .cache/e2e (a no-op once
# installed), the packaged extension, and Debian's Chromium driving the workbench.
bash scripts/e2e-setup.sh
npm run --silent package | tail -n 1  # vsce lists every packaged file
node --test --test-concurrency=1 --test-reporter=spec out/test/e2e/
