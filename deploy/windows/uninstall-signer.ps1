#Requires -Version 5.1
<#
.SYNOPSIS
    Stops and removes the ceb179 signer's Windows service. Keeps settings, logs and the PIN file
    unless -RemoveData.

.DESCRIPTION
    Run as Administrator. Stops the service (WinSW sends Ctrl+C: the signer finishes the jobs in
    flight, unstarted ones go back to RabbitMQ for another card PC), removes it with WinSW's
    "uninstall", then deletes the generated service definition <ServiceName>.xml (it holds the
    broker credentials copied from signer.env) and the wrapper <ServiceName>.exe.

    Kept: signer.env, logs\, secrets\ (the PIN file) and the application files, so that
    install-signer.ps1 can put the service back as it was.

    With -RemoveData it also deletes:
      - the PIN file (CEB179_CARD_PIN_FILE) and everything else in secrets\, each overwritten with
        random bytes (three passes, flushed to disk) before it is deleted;
      - signer.env, overwritten the same way (it holds the broker credentials);
      - logs\.
    Overwriting defeats an undelete on an ordinary disk; an SSD, a backup, a shadow copy or a
    previous copy of the file may still hold the PIN. If the PC leaves your control, change the
    card's PIN.

    The application files (services\, node_modules\, ...) are left in place; delete the folder by
    hand if you want them gone.

    This file is saved as UTF-8 with BOM so that Windows PowerShell 5.1 reads its Chinese text.

.PARAMETER InstallDir
    Default C:\ceb179.

.PARAMETER ServiceName
    Default ceb179-signer.

.PARAMETER ConfigFile
    The settings file (to find the PIN file). Default <InstallDir>\signer.env.

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
    [ValidatePattern('^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$')]
    [string]$ServiceName = 'ceb179-signer',
    [string]$ConfigFile,
    [switch]$RemoveData
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

function Write-Step {
    param([string]$Text)
    Write-Host ''
    Write-Host "==> $Text" -ForegroundColor Cyan
}

function Write-Detail {
    param([string]$Text, [string]$Color = '')
    if ($Color) { Write-Host "    $Text" -ForegroundColor $Color } else { Write-Host "    $Text" }
}

function Test-Administrator {
    $principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
    return $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
}

function Invoke-NativeCommand {
    # Windows PowerShell 5.1 turns a program's stderr into error records that $ErrorActionPreference
    # 'Stop' would make fatal; here they stay text and the exit code decides.
    param([Parameter(Mandatory)][string]$FilePath, [string[]]$ArgumentList = @())
    $ErrorActionPreference = 'Continue'
    $lines = @(& $FilePath @ArgumentList 2>&1 | ForEach-Object { "$_" })
    return [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = $lines }
}

function Get-ServiceExecutable {
    # Win32_Service.PathName may be quoted and may carry arguments.
    param($Record)
    $path = [string]$Record.PathName
    if ($path.StartsWith('"')) { return $path.Substring(1, $path.IndexOf('"', 1) - 1) }
    $exe = $path.ToLowerInvariant().IndexOf('.exe')
    if ($exe -ge 0) { return $path.Substring(0, $exe + 4) }
    return $path
}

function Remove-FileSecurely {
    # Overwrites the file's bytes with random data (three passes, each flushed through the OS cache
    # to the disk), renames it to a random name (so the directory entry does not keep the name),
    # then deletes it.
    [CmdletBinding(SupportsShouldProcess)]
    param([Parameter(Mandatory)][string]$Path)
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) { return }
    if (-not $PSCmdlet.ShouldProcess($Path, 'overwrite with random bytes, then delete')) { return }
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
    Move-Item -LiteralPath $Path -Destination $renamed -Force -WhatIf:$false -Confirm:$false
    Remove-Item -LiteralPath $renamed -Force -WhatIf:$false -Confirm:$false
    Write-Detail "Overwrote and deleted $Path." 'Green'
}

function Get-PinFilePath {
    # CEB179_CARD_PIN_FILE from signer.env (relative paths are relative to InstallDir), else the
    # installer's default.
    param([string]$Settings, [string]$Base)
    $path = Join-Path $Base 'secrets\card-pin.txt'
    if (Test-Path -LiteralPath $Settings) {
        foreach ($line in [System.IO.File]::ReadAllLines($Settings, [System.Text.Encoding]::UTF8)) {
            if ($line -match '^\s*CEB179_CARD_PIN_FILE\s*=\s*(.+?)\s*$') {
                $value = $Matches[1].Trim([char[]]@('"', "'"))
                if ([System.IO.Path]::IsPathRooted($value)) { $path = $value } else { $path = [System.IO.Path]::Combine($Base, $value) }
            }
        }
    }
    return [System.IO.Path]::GetFullPath($path)
}

if (-not (Test-Administrator)) {
    Write-Host 'STOPPED: run this script from a PowerShell started with "Run as administrator" (以管理员身份运行).' -ForegroundColor Red
    exit 1
}

$InstallDir = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($InstallDir).TrimEnd('\')
if (-not $ConfigFile) { $ConfigFile = Join-Path $InstallDir 'signer.env' }
$ConfigFile = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($ConfigFile)
$WrapperExe = Join-Path $InstallDir "$ServiceName.exe"
$WrapperXml = Join-Path $InstallDir "$ServiceName.xml"
$LogDir = Join-Path $InstallDir 'logs'
$SecretsDir = Join-Path $InstallDir 'secrets'

# --------------------------------------------------------------------------------------------------
Write-Step "Service $ServiceName"
# --------------------------------------------------------------------------------------------------
$record = Get-CimInstance -ClassName Win32_Service -Filter "Name='$ServiceName'" -ErrorAction SilentlyContinue
if ($null -eq $record) {
    Write-Detail 'Not installed.'
} else {
    $registered = Get-ServiceExecutable $record
    if (-not [string]::Equals([System.IO.Path]::GetFullPath($registered), $WrapperExe, [System.StringComparison]::OrdinalIgnoreCase)) {
        Write-Host "STOPPED: the service $ServiceName runs $registered, not $WrapperExe; it is not this signer installation. Nothing was changed." -ForegroundColor Red
        exit 1
    }
    if ($record.State -ne 'Stopped' -and $PSCmdlet.ShouldProcess($ServiceName, 'stop the service (in-flight jobs finish first, up to 35 s)')) {
        Stop-Service -Name $ServiceName -WhatIf:$false -Confirm:$false
        Write-Detail "Stopped $ServiceName."
    }
    if ($PSCmdlet.ShouldProcess($ServiceName, 'remove the Windows service')) {
        $removed = $false
        if (Test-Path -LiteralPath $WrapperExe) {
            $result = Invoke-NativeCommand -FilePath $WrapperExe -ArgumentList @('uninstall')
            $removed = $result.ExitCode -eq 0
            if (-not $removed) { Write-Detail "WinSW uninstall failed (exit $($result.ExitCode)): $($result.Output -join ' ')" 'Yellow' }
        }
        if (-not $removed) {
            # The wrapper is missing or failed: remove the service entry directly.
            $result = Invoke-NativeCommand -FilePath (Join-Path $env:SystemRoot 'System32\sc.exe') -ArgumentList @('delete', $ServiceName)
            if ($result.ExitCode -ne 0) { throw "sc.exe delete $ServiceName failed (exit $($result.ExitCode)): $($result.Output -join ' ')" }
        }
        # Windows deletes a service only once nothing holds it open (e.g. the Services window).
        $deadline = (Get-Date).AddSeconds(30)
        while ($null -ne (Get-Service -Name $ServiceName -ErrorAction SilentlyContinue) -and (Get-Date) -lt $deadline) { Start-Sleep -Seconds 1 }
        if ($null -ne (Get-Service -Name $ServiceName -ErrorAction SilentlyContinue)) {
            Write-Detail "$ServiceName is marked for deletion; close the Services window (services.msc) or reboot to finish." 'Yellow'
        } else {
            Write-Detail "Removed the service $ServiceName." 'Green'
        }
    }
}

# --------------------------------------------------------------------------------------------------
Write-Step 'Service wrapper files'
# --------------------------------------------------------------------------------------------------
# The XML holds what signer.env holds (the broker URL and password): overwrite it like a secret.
Remove-FileSecurely -Path $WrapperXml
foreach ($path in @($WrapperExe, (Join-Path $InstallDir "$ServiceName.exe.config"))) {
    if ((Test-Path -LiteralPath $path) -and $PSCmdlet.ShouldProcess($path, 'delete')) {
        Remove-Item -LiteralPath $path -Force -WhatIf:$false -Confirm:$false
        Write-Detail "Deleted $path."
    }
}

# --------------------------------------------------------------------------------------------------
Write-Step 'Data'
# --------------------------------------------------------------------------------------------------
$PinFile = Get-PinFilePath -Settings $ConfigFile -Base $InstallDir
if (-not $RemoveData) {
    Write-Detail "Kept: $ConfigFile, $LogDir, $PinFile (use -RemoveData to delete them)."
    Write-Detail 'install-signer.ps1 puts the service back with the same settings and PIN file.'
    exit 0
}

Remove-FileSecurely -Path $PinFile
if (Test-Path -LiteralPath $SecretsDir) {
    foreach ($file in @(Get-ChildItem -LiteralPath $SecretsDir -File -Recurse -Force)) { Remove-FileSecurely -Path $file.FullName }
    if ($PSCmdlet.ShouldProcess($SecretsDir, 'delete folder')) {
        Remove-Item -LiteralPath $SecretsDir -Recurse -Force -WhatIf:$false -Confirm:$false
        Write-Detail "Deleted $SecretsDir."
    }
}
Remove-FileSecurely -Path $ConfigFile
if ((Test-Path -LiteralPath $LogDir) -and $PSCmdlet.ShouldProcess($LogDir, 'delete the logs')) {
    Remove-Item -LiteralPath $LogDir -Recurse -Force -WhatIf:$false -Confirm:$false
    Write-Detail "Deleted $LogDir."
}
Write-Detail "Application files are still in $InstallDir; delete the folder by hand if you want them gone."
Write-Detail 'If this PC leaves your control, change the operator card''s PIN: an SSD or a backup may still hold old copies.' 'Yellow'
exit 0
