#!/usr/bin/env pwsh
#Requires -Version 7.2
# Runs DeployFunctions locally on Windows (or anywhere PowerShell 7 runs): the twin of run-local.sh.
# Checks prerequisites, creates local.settings.json (with a fresh webhook secret) when it is missing, starts Azurite
# from the repository's pinned npm package and, while the app points at it, the GitHub stand-in; then `func start`.
# Azurite and the stand-in stop when the host stops.
$ErrorActionPreference = 'Stop'
$root = Split-Path -Parent $PSScriptRoot
Set-Location $root

# Everything this script starts listens on a fixed port: say which one is taken instead of failing later.
$busy = @(10000, 10001, 10002, 4010, 7071) | Where-Object {
    $client = [System.Net.Sockets.TcpClient]::new()
    try { $client.ConnectAsync('127.0.0.1', $_).Wait(300) } catch { $false } finally { $client.Dispose() }
}
if ($busy) {
    Write-Error "busy: port(s) $($busy -join ', ') on 127.0.0.1 are in use (Azurite 10000-10002, the GitHub stand-in 4010, the Functions host 7071); stop what listens there (e.g. another run-local.ps1) and run this again"
    exit 1
}

$missing = @()
function Test-Tool([string]$Name, [string]$Hint) {
    if (-not (Get-Command $Name -ErrorAction SilentlyContinue)) { $script:missing += "missing: $Name - $Hint" }
}
Test-Tool 'dotnet' 'install the .NET 10 SDK: https://dotnet.microsoft.com/download/dotnet/10.0'
Test-Tool 'node' 'install Node.js 20 or later: https://nodejs.org/'
Test-Tool 'npm' 'install Node.js 20 or later (it ships npm): https://nodejs.org/'
if ($missing.Count -gt 0) { $missing | ForEach-Object { Write-Error $_ -ErrorAction Continue }; exit 1 }

if (-not (dotnet --list-sdks | Select-String '^10\.')) { Write-Error 'missing: the .NET 10 SDK - https://dotnet.microsoft.com/download/dotnet/10.0'; exit 1 }
# Core Tools builds its extensions project for net8.0 and needs the .NET 8 runtime. Without one, Microsoft's install
# script puts the .NET 10 SDK and the .NET 8 runtime side by side in the git-ignored .dotnet/ (nothing global), and
# this script uses that dotnet from then on.
function Test-Dotnet8([string]$Dotnet) {
    if (-not (Get-Command $Dotnet -ErrorAction SilentlyContinue)) { return $false }
    [bool](& $Dotnet --list-runtimes 2>$null | Select-String '^Microsoft\.NETCore\.App 8\.')
}
if (-not (Test-Dotnet8 'dotnet')) {
    $private = Join-Path $root '.dotnet'
    $privateDotnet = Join-Path $private ($IsWindows ? 'dotnet.exe' : 'dotnet')
    if (-not (Test-Dotnet8 $privateDotnet)) {
        Write-Host 'The .NET 8 runtime is missing: installing it (and the .NET 10 SDK beside it) into .dotnet/ with https://dot.net/v1/dotnet-install.ps1'
        New-Item -ItemType Directory -Force $private | Out-Null
        try {
            Invoke-WebRequest 'https://dot.net/v1/dotnet-install.ps1' -OutFile (Join-Path $private 'dotnet-install.ps1')
            & (Join-Path $private 'dotnet-install.ps1') -Channel 10.0 -InstallDir $private -NoPath
            & (Join-Path $private 'dotnet-install.ps1') -Channel 8.0 -Runtime dotnet -InstallDir $private -NoPath
        }
        catch {
            Write-Error "missing: the .NET 8 runtime, which Core Tools needs to build the extensions project, and it could not be installed from here (https://dot.net/v1/dotnet-install.ps1 did not download or run: $($_.Exception.Message)). Install it: https://dotnet.microsoft.com/download/dotnet/8.0" -ErrorAction Continue
            exit 4
        }
    }
    $env:DOTNET_ROOT = $private
    $env:PATH = "$private$([System.IO.Path]::PathSeparator)$env:PATH"
}
$nodeMajor = [int](node -p 'process.versions.node.split(".")[0]')
if ($nodeMajor -lt 20) { Write-Error "missing: Node.js 20 or later (found $(node --version)) - https://nodejs.org/"; exit 1 }

# Azure Functions Core Tools: a `func` on the PATH, else the version package.json pins (an optional dependency, so
# `npm ci` succeeds even where its download of the Functions host is blocked).
# The board's chart library (uplot) is copied into the app by its build: a checkout from before it needs `npm ci` too.
if (-not (Test-Path 'node_modules/.bin/azurite') -or -not (Test-Path 'node_modules/uplot/dist/uPlot.iife.min.js')) { npm ci --no-audit --no-fund --loglevel=error }
$pinnedFunc = @('node_modules/.bin/func.cmd', 'node_modules/.bin/func') | Where-Object { Test-Path $_ } | Select-Object -First 1
$onPath = Get-Command 'func' -ErrorAction SilentlyContinue
$func = if ($onPath) { $onPath.Source } else { $null }
if (-not $func -and -not $pinnedFunc) {
    npm ci --no-audit --no-fund --loglevel=error # tries the Core Tools download again
    $pinnedFunc = @('node_modules/.bin/func.cmd', 'node_modules/.bin/func') | Where-Object { Test-Path $_ } | Select-Object -First 1
}
if (-not $func -and $pinnedFunc) { $func = (Resolve-Path $pinnedFunc).Path }
if (-not $func) {
    Write-Error "missing: Azure Functions Core Tools. npm could not install the pinned version (package.json): its install downloads the Functions host from Microsoft's CDN, which this machine cannot reach. Install Core Tools 4.4.1 or later where it can (npm install -g azure-functions-core-tools@4) and run this again." -ErrorAction Continue
    exit 3
}
$funcVersion = [version]((& $func --version) -replace '[^0-9.].*$', '')
if ($funcVersion -lt [version]'4.4.1') { Write-Error "missing: Azure Functions Core Tools 4.4.1 or later (found $funcVersion) - npm install -g azure-functions-core-tools@4"; exit 1 }

if (-not (Test-Path 'local.settings.json')) {
    $bytes = [byte[]]::new(32)
    [System.Security.Cryptography.RandomNumberGenerator]::Fill($bytes)
    $secret = [Convert]::ToHexString($bytes).ToLowerInvariant()
    $settings = Get-Content 'local.settings.sample.json' -Raw | ConvertFrom-Json
    $settings.Values.'Webhook__Secrets__0' = $secret
    $settings | ConvertTo-Json -Depth 5 | Set-Content 'local.settings.json' -Encoding utf8
    Write-Host 'Created local.settings.json. Your webhook secret (shown once; it is in local.settings.json):'
    Write-Host "  $secret"
}

New-Item -ItemType Directory -Force '.azurite' | Out-Null
$processes = @()
# --skipApiVersionCheck: the storage SDK speaks a newer API version than Azurite knows; without it every call fails.
$processes += Start-Process -PassThru -NoNewWindow node -ArgumentList @('node_modules/azurite/dist/src/azurite.js', '--silent', '--skipApiVersionCheck', '--disableTelemetry', '--location', '.azurite', '--debug', '.azurite/debug.log')

try {
    if ((Get-Content 'local.settings.json' -Raw) -match '"GitHub__ApiBaseUrl": "http://127.0.0.1:4010/"') {
        dotnet build tools/GitHubStandIn -c Debug -v quiet
        $processes += Start-Process -PassThru -NoNewWindow dotnet -ArgumentList @('tools/GitHubStandIn/bin/Debug/net10.0/GitHubStandIn.dll', 'serve', '--port', '4010', '--settings', 'local.settings.json')
        Write-Host 'GitHub stand-in on http://127.0.0.1:4010/. In another terminal, merge a pull request:'
        Write-Host '  dotnet tools/GitHubStandIn/bin/Debug/net10.0/GitHubStandIn.dll merge'
        Write-Host 'or give a chat command on its pull request #1:'
        Write-Host '  dotnet tools/GitHubStandIn/bin/Debug/net10.0/GitHubStandIn.dll comment 1 ".deploy" --as octocat'
    }

    dotnet build src/DeployFunctions -c Debug
    Push-Location 'src/DeployFunctions/bin/Debug/net10.0'
    try { & $func start } finally { Pop-Location }
}
finally {
    $processes | Where-Object { -not $_.HasExited } | ForEach-Object { Stop-Process -Id $_.Id -Force }
}
