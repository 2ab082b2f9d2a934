#!/usr/bin/env bash
# Runs DeployFunctions locally: checks prerequisites, creates local.settings.json (with a fresh webhook secret)
# when it is missing, starts Azurite from the repository's pinned npm package, builds the app and runs `func start`.
# Azurite stops when the host stops.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# Everything this script starts listens on a fixed port: say which one is taken instead of failing later.
busy=""
for port in 10000 10001 10002 4010 7071; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then busy="$busy $port"; fi
done
if [ -n "$busy" ]; then
  echo "busy: port(s)$busy on 127.0.0.1 are in use (Azurite 10000-10002, the GitHub stand-in 4010, the Functions host" \
    "7071); stop what listens there (e.g. another run-local.sh) and run this again" >&2
  exit 1
fi

missing=0
need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "missing: $1 - $2" >&2
    missing=1
  fi
}
need dotnet "install the .NET 10 SDK: https://dotnet.microsoft.com/download/dotnet/10.0"
need node "install Node.js 20 or later: https://nodejs.org/"
need npm "install Node.js 20 or later (it ships npm): https://nodejs.org/"
[ "$missing" -eq 0 ] || exit 1

if ! dotnet --list-sdks | grep -q '^10\.'; then
  echo "missing: the .NET 10 SDK - https://dotnet.microsoft.com/download/dotnet/10.0" >&2; exit 1
fi
# Core Tools builds its extensions project for net8.0 and needs the .NET 8 runtime. Without one, Microsoft's install
# script puts the .NET 10 SDK and the .NET 8 runtime side by side in the git-ignored .dotnet/ (nothing global), and
# this script uses that dotnet from then on.
has_dotnet8() { "$1" --list-runtimes 2>/dev/null | grep -q '^Microsoft.NETCore.App 8\.'; }
if ! has_dotnet8 dotnet; then
  if ! has_dotnet8 "$root/.dotnet/dotnet"; then
    echo "The .NET 8 runtime is missing: installing it (and the .NET 10 SDK beside it) into .dotnet/ with" \
      "https://dot.net/v1/dotnet-install.sh"
    mkdir -p .dotnet
    if ! curl -fsSL --retry 2 https://dot.net/v1/dotnet-install.sh -o .dotnet/dotnet-install.sh ||
      ! bash .dotnet/dotnet-install.sh --channel 10.0 --install-dir .dotnet --no-path ||
      ! bash .dotnet/dotnet-install.sh --channel 8.0 --runtime dotnet --install-dir .dotnet --no-path; then
      echo "missing: the .NET 8 runtime, which Core Tools needs to build the extensions project, and it could not be" \
        "installed from here (https://dot.net/v1/dotnet-install.sh did not download or run). Install it:" \
        "https://dotnet.microsoft.com/download/dotnet/8.0" >&2
      exit 4
    fi
  fi
  export DOTNET_ROOT="$root/.dotnet"
  export PATH="$root/.dotnet:$PATH"
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "missing: Node.js 20 or later (found $(node --version)) - https://nodejs.org/" >&2; exit 1
fi

# Azure Functions Core Tools: a `func` on the PATH, else the version package.json pins (an optional dependency, so
# `npm ci` succeeds even where its download of the Functions host is blocked).
# The board's chart library (uplot) is copied into the app by its build: a checkout from before it needs `npm ci` too.
if [ ! -x node_modules/.bin/azurite ] || [ ! -f node_modules/uplot/dist/uPlot.iife.min.js ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
func="$(command -v func || true)"
if [ -z "$func" ] && [ ! -x node_modules/.bin/func ]; then
  npm ci --no-audit --no-fund --loglevel=error # tries the Core Tools download again
fi
[ -n "$func" ] || [ ! -x node_modules/.bin/func ] || func="$root/node_modules/.bin/func"
if [ -z "$func" ]; then
  echo "missing: Azure Functions Core Tools. npm could not install the pinned version (package.json): its install" \
    "downloads the Functions host from Microsoft's CDN, which this machine cannot reach. Install Core Tools 4.4.1 or" \
    "later where it can (npm install -g azure-functions-core-tools@4) and run this again." >&2
  exit 3
fi
func_version="$("$func" --version)"
if [ "$(printf '%s\n4.4.1\n' "$func_version" | sort -V | head -n 1)" != "4.4.1" ]; then
  echo "missing: Azure Functions Core Tools 4.4.1 or later (found $func_version) -" \
    "npm install -g azure-functions-core-tools@4" >&2
  exit 1
fi

if [ ! -f local.settings.json ]; then
  secret="$(node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("hex"))')"
  node -e '
    const fs = require("fs");
    const settings = JSON.parse(fs.readFileSync("local.settings.sample.json", "utf8"));
    settings.Values["Webhook__Secrets__0"] = process.argv[1];
    fs.writeFileSync("local.settings.json", JSON.stringify(settings, null, 2) + "\n");
  ' "$secret"
  echo "Created local.settings.json. Your webhook secret (shown once; it is in local.settings.json):"
  echo "  $secret"
fi

mkdir -p .azurite
# --skipApiVersionCheck: the storage SDK speaks a newer API version than Azurite knows; without it every call fails.
node_modules/.bin/azurite --silent --skipApiVersionCheck --disableTelemetry --location .azurite --debug .azurite/debug.log &
pids="$!"
trap 'kill $pids 2>/dev/null || true' EXIT INT TERM

# Until a real GitHub is configured, the app talks to the local stand-in (GitHub__ApiBaseUrl in local.settings.json).
if grep -q '"GitHub__ApiBaseUrl": "http://127.0.0.1:4010/"' local.settings.json; then
  dotnet build tools/GitHubStandIn -c Debug -v quiet
  dotnet tools/GitHubStandIn/bin/Debug/net10.0/GitHubStandIn.dll serve --port 4010 --settings local.settings.json &
  pids="$pids $!"
  echo "GitHub stand-in on http://127.0.0.1:4010/. In another terminal, merge a pull request:"
  echo "  dotnet tools/GitHubStandIn/bin/Debug/net10.0/GitHubStandIn.dll merge"
  echo "or give a chat command on its pull request #1:"
  echo "  dotnet tools/GitHubStandIn/bin/Debug/net10.0/GitHubStandIn.dll comment 1 \".deploy\" --as octocat"
fi

dotnet build src/DeployFunctions -c Debug
cd src/DeployFunctions/bin/Debug/net10.0
"$func" start
