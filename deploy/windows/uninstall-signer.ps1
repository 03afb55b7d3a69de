#Requires -Version 5.1
<#
.SYNOPSIS
    Stops and removes the ceb179 signer's Windows service. Keeps settings, logs and the PIN file
    unless -RemoveData; always keeps the signer's state folder.

.DESCRIPTION
    Run as Administrator. Like install-signer.ps1 this script decides nothing: the signer's tested
    command computes the removal plan,

        node <InstallDir>\services\signer\dist\install.js --uninstall --dry-run [--remove-data]

    and this script carries out its steps: stop the service (jobs in flight finish, unstarted ones
    go back to RabbitMQ), remove it, overwrite and delete the generated service definition (it holds
    the broker password), delete the wrapper. With -RemoveData also the PIN file, everything in
    secrets\ and signer.env (each overwritten with random bytes first) and logs\.

    The state folder (%ProgramData%\ceb179\signer, or CEB179_SIGNER_STATE_DIR) is always kept: it
    remembers the PINs the card refused, so that a later installation never resends one.
    pin-state.js show|clear reads or forgets it.

    Overwriting defeats an undelete on an ordinary disk; an SSD, a backup or a shadow copy may still
    hold the PIN. If the PC leaves your control, change the card's PIN.

    This file is saved as UTF-8 with BOM so that Windows PowerShell 5.1 reads its Chinese text.

.PARAMETER InstallDir
    Default C:\ceb179.

.PARAMETER ServiceName
    Default ceb179-signer.

.PARAMETER ConfigFile
    The settings file (where the PIN file and the state folder are named). Default <InstallDir>\signer.env.

.PARAMETER NodeExe
    node.exe to compute the plan with. Default: the node.exe on PATH.

.PARAMETER RemoveData
    Also delete the PIN file and secrets (overwritten first), the settings file and the logs.

.EXAMPLE
    .\uninstall-signer.ps1 -WhatIf

.EXAMPLE
    .\uninstall-signer.ps1 -RemoveData
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [string]$InstallDir = 'C:\ceb179',
    [string]$ServiceName = 'ceb179-signer',
    [string]$ConfigFile,
    [string]$NodeExe,
    [switch]$RemoveData
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

function Write-Detail {
    param([string]$Text, [string]$Color = 'Gray')
    Write-Host "    $Text" -ForegroundColor $Color
}

function Stop-Uninstaller {
    param([string]$Reason)
    Write-Host "STOPPED: $Reason" -ForegroundColor Red
    exit 1
}

function Remove-FileSecurely {
    # Overwrites the bytes with random data (three passes, each flushed to the disk), renames the
    # file to a random name (so the directory entry does not keep its name), then deletes it.
    param([Parameter(Mandatory)][string]$Path)
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) { return }
    $length = [Math]::Max((Get-Item -LiteralPath $Path -Force).Length, 64)
    $random = [System.Security.Cryptography.RandomNumberGenerator]::Create()
    $buffer = New-Object byte[] ([int][Math]::Min($length, 1048576))
    $stream = New-Object System.IO.FileStream($Path, [System.IO.FileMode]::Open, [System.IO.FileAccess]::Write, [System.IO.FileShare]::None)
    try {
        for ($pass = 1; $pass -le 3; $pass++) {
            $stream.Position = 0
            $written = 0
            while ($written -lt $length) {
                $count = [int][Math]::Min($buffer.Length, $length - $written)
                $random.GetBytes($buffer)
                $stream.Write($buffer, 0, $count)
                $written += $count
            }
            $stream.Flush($true)
        }
    } finally {
        $stream.Dispose()
        $random.Dispose()
        [Array]::Clear($buffer, 0, $buffer.Length)
    }
    $renamed = Join-Path (Split-Path -Parent $Path) ([guid]::NewGuid().ToString('N'))
    Move-Item -LiteralPath $Path -Destination $renamed -Force
    Remove-Item -LiteralPath $renamed -Force
}

function Remove-SignerService {
    param($Step)
    $record = Get-CimInstance -ClassName Win32_Service -Filter "Name='$($Step.service)'" -ErrorAction SilentlyContinue
    if ($null -eq $record) { Write-Detail 'Not installed.'; return }
    if ($record.PathName -notlike "*$($Step.wrapperExe)*") {
        Stop-Uninstaller "the service $($Step.service) runs $($record.PathName), not $($Step.wrapperExe); it is not this signer. Nothing was changed."
    }
    $removed = $false
    if (Test-Path -LiteralPath $Step.wrapperExe) {
        & $Step.wrapperExe uninstall | ForEach-Object { Write-Detail "$_" }
        $removed = $LASTEXITCODE -eq 0
    }
    if (-not $removed) {
        & (Join-Path $env:SystemRoot 'System32\sc.exe') delete $Step.service | ForEach-Object { Write-Detail "$_" }
        if ($LASTEXITCODE -ne 0) { throw "sc.exe delete $($Step.service) failed (exit $LASTEXITCODE)" }
    }
    # Windows deletes a service only once nothing holds it open (e.g. the Services window).
    $deadline = (Get-Date).AddSeconds(30)
    while ($null -ne (Get-Service -Name $Step.service -ErrorAction SilentlyContinue) -and (Get-Date) -lt $deadline) { Start-Sleep -Seconds 1 }
    if ($null -ne (Get-Service -Name $Step.service -ErrorAction SilentlyContinue)) {
        Write-Detail "$($Step.service) is marked for deletion; close the Services window (services.msc) or reboot to finish." 'Yellow'
    }
}

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    Stop-Uninstaller 'run this script from a PowerShell started with "Run as administrator" (以管理员身份运行).'
}
if (-not $NodeExe) {
    $found = Get-Command -Name node.exe -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($null -eq $found) { Stop-Uninstaller 'node.exe is not on PATH; pass -NodeExe.' }
    $NodeExe = $found.Path
}
$InstallDir = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($InstallDir).TrimEnd('\')
$InstallJs = Join-Path $InstallDir 'services\signer\dist\install.js'
if (-not (Test-Path -LiteralPath $InstallJs)) { Stop-Uninstaller "$InstallJs is missing (-InstallDir?)." }
$planArguments = @('--uninstall', '--install-dir', $InstallDir, '--service-name', $ServiceName)
if ($ConfigFile) { $planArguments += @('--config-file', $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($ConfigFile)) }
if ($RemoveData) { $planArguments += '--remove-data' }

try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding($false) } catch { Write-Verbose 'no console encoding to set' }
if ($WhatIfPreference) {
    & $NodeExe $InstallJs --dry-run @planArguments
    exit $LASTEXITCODE
}
$planText = (& $NodeExe $InstallJs --plan-json @planArguments) -join "`n"
if ($LASTEXITCODE -ne 0) { Stop-Uninstaller 'the parameters are not right (listed above); nothing was changed.' }
$plan = $planText | ConvertFrom-Json

$number = 0
foreach ($step in $plan.steps) {
    $number++
    Write-Host ''
    Write-Host ("[{0}/{1}] {2}" -f $number, @($plan.steps).Count, $step.title) -ForegroundColor Cyan
    switch ($step.kind) {
        'stop-service' {
            $service = Get-Service -Name $step.service -ErrorAction SilentlyContinue
            if ($null -ne $service -and $service.Status -ne 'Stopped') { Stop-Service -Name $step.service }
        }
        'remove-service' { Remove-SignerService $step }
        'shred-file' { Remove-FileSecurely -Path $step.path }
        'shred-folder' {
            if (Test-Path -LiteralPath $step.path) {
                foreach ($file in @(Get-ChildItem -LiteralPath $step.path -File -Recurse -Force)) { Remove-FileSecurely -Path $file.FullName }
                Remove-Item -LiteralPath $step.path -Recurse -Force
            }
        }
        'delete-file' { if (Test-Path -LiteralPath $step.path) { Remove-Item -LiteralPath $step.path -Force } }
        'delete-folder' { if (Test-Path -LiteralPath $step.path) { Remove-Item -LiteralPath $step.path -Recurse -Force } }
        default { Stop-Uninstaller "this script does not know the step '$($step.kind)'; use the uninstall-signer.ps1 of the same release as install.js." }
    }
}
Write-Host ''
Write-Host 'Kept:' -ForegroundColor Cyan
foreach ($line in $plan.kept) { Write-Detail "- $line" }
exit 0
