#Requires -Version 5.1
<#
.SYNOPSIS
    Installs or updates the ceb179 signer as a Windows service on the card PC (WinSW wrapper).

.DESCRIPTION
    Run as Administrator on the Windows PC that holds the operator card reader and the China E-Port
    client control (中国电子口岸客户端控件, ws://127.0.0.1:61232).

    This script decides nothing. The signer's own tested command computes the installation plan
    from your settings file and the parameters below:

        node <InstallDir>\services\signer\dist\install.js --dry-run ...

    prints every step it takes, numbered, in plain words: the paths, the access rules (by
    well-known SIDs), the PIN file, the signer's state folder, the service definition (WinSW XML,
    never the PIN: only the path of the PIN file), the restart policy and why it cannot loop on a
    PIN refusal. This script checks that it runs as Administrator with Node.js 20, reads the same
    plan as JSON (--plan-json) and carries out each step as it stands.

    -WhatIf prints that dry run and changes nothing.

    Re-running it is safe: it rewrites the service definition, keeps the PIN file (unless
    -UpdatePin) and restarts the service. A restarted signer never resends a PIN the card has
    refused (it remembers refusals in its state folder), so a restart cannot lock the card.

    WinSW: download WinSW-x64.exe from the WinSW releases on GitHub (the 2.x line, e.g. v2.12.0; the
    x64 build needs no .NET install) on a machine with internet access, carry it to the card PC and
    pass its path with -WinSWExe on the first installation.

    This file is saved as UTF-8 with BOM so that Windows PowerShell 5.1 reads its Chinese text.

.PARAMETER InstallDir
    The built repository (npm ci && npm run build && npm prune --omit=dev on a build machine, copied
    here). Default C:\ceb179.

.PARAMETER NodeExe
    node.exe to run the signer with. Default: the node.exe on PATH (the Node.js 22 LTS .msi puts it in C:\Program Files\nodejs). Node.js 20.10 or later.

.PARAMETER ConfigFile
    The settings file (see signer.env.template). Default <InstallDir>\signer.env.

.PARAMETER ServiceName
    Windows service name; also the name of the wrapper exe, its XML and the log files.
    Default ceb179-signer.

.PARAMETER WinSWExe
    Path of WinSW-x64.exe. Required on the first installation.

.PARAMETER ServiceAccount
    Run the service as this account instead of LocalSystem: 'NT SERVICE\ceb179-signer' (a virtual
    account, recommended), 'DOMAIN\gmsa$' or '.\ceb179svc' (a local user: its password is asked
    for, never shown or stored). Default: the account of the installed service, else LocalSystem.

.PARAMETER UpdatePin
    Ask for the PIN again and replace the PIN file (the card's PIN changed, or the card refused the
    PIN in the file). The restart that follows tries the new PIN once.

.PARAMETER SkipDoctor
    Do not run the doctor at the end.

.EXAMPLE
    .\install-signer.ps1 -WinSWExe C:\Users\op\Downloads\WinSW-x64.exe -WhatIf

.EXAMPLE
    .\install-signer.ps1 -WinSWExe C:\Users\op\Downloads\WinSW-x64.exe

.EXAMPLE
    .\install-signer.ps1 -UpdatePin
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [string]$InstallDir = 'C:\ceb179',
    [string]$NodeExe,
    [string]$ConfigFile,
    [string]$ServiceName = 'ceb179-signer',
    [string]$WinSWExe,
    [string]$ServiceAccount,
    [switch]$UpdatePin,
    [switch]$SkipDoctor
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$MinimumNode = [version]'20.10.0'

function Write-Detail {
    param([string]$Text, [string]$Color = 'Gray')
    Write-Host "    $Text" -ForegroundColor $Color
}

function Stop-Installer {
    param([string]$Reason, [int]$Code = 1)
    Write-Host ''
    Write-Host "STOPPED: $Reason" -ForegroundColor Red
    exit $Code
}

function Invoke-Checked {
    # A program whose failure stops the installer. Its output goes to the console as it comes.
    param([Parameter(Mandatory)][string]$FilePath, [string[]]$ArgumentList = @())
    & $FilePath @ArgumentList | ForEach-Object { Write-Detail "$_" }
    if ($LASTEXITCODE -ne 0) { throw "$FilePath $($ArgumentList -join ' ') failed (exit $LASTEXITCODE)" }
}

function Invoke-ServiceControl {
    # sc.exe with a verbatim command line: PowerShell 5.1 drops the empty argument of password= "".
    param([Parameter(Mandatory)][string]$Arguments)
    $info = New-Object System.Diagnostics.ProcessStartInfo
    $info.FileName = Join-Path $env:SystemRoot 'System32\sc.exe'
    $info.Arguments = $Arguments
    $info.UseShellExecute = $false
    $info.RedirectStandardOutput = $true
    $process = [System.Diagnostics.Process]::Start($info)
    $output = $process.StandardOutput.ReadToEnd()
    $process.WaitForExit()
    if ($process.ExitCode -ne 0) { throw "sc.exe $Arguments failed (exit $($process.ExitCode)): $($output.Trim())" }
}

function Get-PrincipalSid {
    # A SID the plan computed, or an account Windows resolves ('.\name' is this computer).
    param($Principal)
    if ($Principal.PSObject.Properties['sid']) { return [string]$Principal.sid }
    $name = [string]$Principal.account
    if ($name.StartsWith('.\')) { $name = $env:COMPUTERNAME + $name.Substring(1) }
    return (New-Object System.Security.Principal.NTAccount($name)).Translate([System.Security.Principal.SecurityIdentifier]).Value
}

function Set-Access {
    param([string]$Path, [string]$Mode, $Grants, $RemoveSids)
    $rules = @(foreach ($grant in $Grants) {
        $flags = ''
        if ($grant.inherit) { $flags = '(OI)(CI)' }
        '*{0}:{1}{2}' -f (Get-PrincipalSid $grant.principal), $flags, $grant.right
    })
    if ($Mode -eq 'exact') {
        Invoke-Checked icacls.exe (@($Path, '/inheritance:r', '/grant:r') + $rules + @('/Q'))
        Invoke-Checked icacls.exe (@($Path, '/remove:g') + @($RemoveSids | ForEach-Object { "*$_" }) + @('/Q'))
    } else {
        Invoke-Checked icacls.exe (@($Path, '/grant') + $rules + @('/Q'))
    }
}

function ConvertTo-PlainText {
    # SecureString -> string, for the moment it takes to write it. Never printed.
    param([Parameter(Mandatory)][System.Security.SecureString]$Secure)
    $pointer = [Runtime.InteropServices.Marshal]::SecureStringToBSTR($Secure)
    try { return [Runtime.InteropServices.Marshal]::PtrToStringBSTR($pointer) } finally { [Runtime.InteropServices.Marshal]::ZeroFreeBSTR($pointer) }
}

function Read-CardPin {
    # Asked twice, never echoed; returned as UTF-8 bytes, which the caller clears.
    for ($attempt = 1; $attempt -le 3; $attempt++) {
        Write-Detail 'Enter the OPERATOR card PIN (操作员卡口令). It is not shown. Type it carefully.' 'Yellow'
        $first = Read-Host -AsSecureString -Prompt '    PIN'
        $second = Read-Host -AsSecureString -Prompt '    PIN again'
        $a = ConvertTo-PlainText $first
        $b = ConvertTo-PlainText $second
        $same = $a.Length -gt 0 -and [string]::Equals($a, $b, [System.StringComparison]::Ordinal)
        $bytes = $null
        if ($same) { $bytes = (New-Object System.Text.UTF8Encoding($false)).GetBytes($a) }
        $a = $null
        $b = $null
        if ($same) { return , $bytes }
        Write-Detail 'The two entries differ (or are empty); again.' 'Red'
    }
    Stop-Installer 'the PIN was not entered twice the same; the PIN file was not changed.'
}

function Write-PinFile {
    # The plan's order: staging file created empty, restricted, the PIN written, checked, moved in place.
    param($Step)
    if ((Test-Path -LiteralPath $Step.path) -and -not $Step.rewrite) {
        Set-Access -Path $Step.path -Mode 'exact' -Grants $Step.grants -RemoveSids $Step.removeSids
        Invoke-Checked $Step.checkCommand[0] (@($Step.checkCommand | Select-Object -Skip 1) + @($Step.path))
        return
    }
    $bytes = Read-CardPin
    try {
        [System.IO.File]::WriteAllBytes($Step.stagingPath, [byte[]]@())
        Set-Access -Path $Step.stagingPath -Mode 'exact' -Grants $Step.grants -RemoveSids $Step.removeSids
        [System.IO.File]::WriteAllBytes($Step.stagingPath, $bytes)
    } finally {
        [Array]::Clear($bytes, 0, $bytes.Length)
    }
    try {
        Invoke-Checked $Step.checkCommand[0] (@($Step.checkCommand | Select-Object -Skip 1) + @($Step.stagingPath))
    } catch {
        Remove-Item -LiteralPath $Step.stagingPath -Force
        Stop-Installer 'that PIN cannot be written as the signer reads it (see above); the PIN file was not changed.'
    }
    Move-Item -LiteralPath $Step.stagingPath -Destination $Step.path -Force
    Set-Access -Path $Step.path -Mode 'exact' -Grants $Step.grants -RemoveSids $Step.removeSids
    Write-Detail "PIN written to $($Step.path) (not shown)." 'Green'
}

function Set-ServiceAccount {
    param($Step)
    $account = $Step.account
    if ($account.needsPassword) {
        # Through CIM, so the password never appears on a command line.
        $secure = Read-Host -AsSecureString -Prompt "    Password of $($account.name) (not shown)"
        $plain = ConvertTo-PlainText $secure
        try {
            $result = Invoke-CimMethod -Query "SELECT * FROM Win32_Service WHERE Name='$($Step.service)'" -MethodName Change -Arguments @{ StartName = $account.name; StartPassword = $plain }
        } finally {
            $plain = $null
        }
        if (@($result)[0].ReturnValue -ne 0) { throw "setting the service account failed (Win32_Service.Change returned $(@($result)[0].ReturnValue); 22 = unknown account or wrong password)" }
    }
    foreach ($arguments in $Step.scArguments) { Invoke-ServiceControl $arguments }
    if ($account.needsLogonRight) { Grant-ServiceLogonRight -Sid (Get-PrincipalSid $account.principal) }
}

function Grant-ServiceLogonRight {
    # "Log on as a service" through secedit, the built-in way without extra modules.
    param([string]$Sid)
    $work = Join-Path ([System.IO.Path]::GetTempPath()) ('ceb179-secedit-' + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $work | Out-Null
    try {
        $exported = Join-Path $work 'export.inf'
        Invoke-Checked secedit.exe @('/export', '/cfg', $exported, '/areas', 'USER_RIGHTS', '/quiet')
        $holders = @()
        foreach ($line in (Get-Content -LiteralPath $exported -Encoding Unicode)) {
            if ($line -match '^\s*SeServiceLogonRight\s*=\s*(.*)$') { $holders = @($Matches[1].Split(',') | ForEach-Object { $_.Trim() } | Where-Object { $_ }) }
        }
        if ($holders -contains "*$Sid") { return }
        $template = Join-Path $work 'grant.inf'
        $lines = @('[Unicode]', 'Unicode=yes', '[Version]', 'signature="$CHICAGO$"', 'Revision=1', '[Privilege Rights]', ('SeServiceLogonRight = ' + (($holders + "*$Sid") -join ',')))
        Set-Content -LiteralPath $template -Value $lines -Encoding Unicode
        Invoke-Checked secedit.exe @('/configure', '/db', (Join-Path $work 'grant.sdb'), '/cfg', $template, '/areas', 'USER_RIGHTS', '/quiet')
    } finally {
        Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
    }
}

function Get-SignerHealth {
    # GET /health: 200 or 503, both with the JSON body ($null if nothing answers). HttpWebRequest,
    # because Invoke-RestMethod in Windows PowerShell 5.1 throws away the body of a 503.
    param([string]$Url)
    $request = [System.Net.HttpWebRequest]::Create($Url)
    $request.Timeout = 3000
    $request.Proxy = $null
    try {
        $response = $request.GetResponse()
    } catch {
        $web = $_.Exception
        while ($null -ne $web -and -not ($web -is [System.Net.WebException])) { $web = $web.InnerException }
        if ($null -eq $web -or $null -eq $web.Response) { return $null }
        $response = $web.Response
    }
    try {
        $body = (New-Object System.IO.StreamReader($response.GetResponseStream(), [System.Text.Encoding]::UTF8)).ReadToEnd()
    } finally {
        $response.Close()
    }
    try { return $body | ConvertFrom-Json } catch { return $null }
}

function Start-Signer {
    param($Step)
    try {
        Start-Service -Name $Step.service
    } catch {
        Write-Detail "Windows could not start $($Step.service): $($_.Exception.Message). See $InstallDir\logs\$($Step.service).wrapper.log and .err.log." 'Red'
        return $false
    }
    if (-not $Step.PSObject.Properties['healthUrl']) { return $true }
    $deadline = (Get-Date).AddSeconds($Step.waitSeconds)
    $health = $null
    while ((Get-Date) -lt $deadline) {
        Start-Sleep -Seconds 2
        if ((Get-Service -Name $Step.service).Status -ne 'Running') { break }
        $health = Get-SignerHealth $Step.healthUrl
        if ($null -ne $health -and $health.state -ne 'starting') { break }
    }
    if ((Get-Service -Name $Step.service).Status -ne 'Running') {
        Write-Detail "The service stopped: read $InstallDir\logs\$($Step.service).err.log (a bad setting is named there)." 'Red'
        return $false
    }
    if ($null -eq $health) { Write-Detail "No answer from $($Step.healthUrl) yet; check with check-signer.ps1." 'Yellow'; return $false }
    $reason = ''
    if ($health.PSObject.Properties['reason'] -and $health.reason) { $reason = " ($($health.reason))" }
    $color = 'Yellow'
    if ($health.state -eq 'ready') { $color = 'Green' }
    Write-Detail "Signer state: $($health.state)$reason" $color
    if ($health.state -eq 'paused-for-pin') { Write-Detail $Step.pausedForPinAdvice 'Red' }
    return $health.state -eq 'ready'
}

function Invoke-Doctor {
    # The doctor reads its settings from the environment, like the service: the plan's, for its run only.
    param($Step)
    $names = @($Step.env.PSObject.Properties.Name) + @(Get-ChildItem Env: | Where-Object { $_.Name -like 'CEB179_*' } | ForEach-Object { $_.Name })
    $saved = @{}
    foreach ($name in $names) { $saved[$name] = [Environment]::GetEnvironmentVariable($name, 'Process') }
    Push-Location -LiteralPath $Step.workingDirectory
    try {
        foreach ($name in $names) { [Environment]::SetEnvironmentVariable($name, $null, 'Process') }
        foreach ($property in $Step.env.PSObject.Properties) { [Environment]::SetEnvironmentVariable($property.Name, [string]$property.Value, 'Process') }
        $program = $Step.command[0]
        $arguments = @($Step.command | Select-Object -Skip 1)
        & $program @arguments | ForEach-Object { Write-Detail "$_" }
        return $LASTEXITCODE -eq 0
    } finally {
        foreach ($name in $names) { [Environment]::SetEnvironmentVariable($name, $saved[$name], 'Process') }
        Pop-Location
    }
}

# --------------------------------------------------------------------------------------------------
# Administrator, Node.js, the plan
# --------------------------------------------------------------------------------------------------

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    Stop-Installer 'run this script from a PowerShell started with "Run as administrator" (以管理员身份运行).'
}
if (-not $NodeExe) {
    $found = Get-Command -Name node.exe -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($null -eq $found) { Stop-Installer 'node.exe is not on PATH. Install Node.js 22 LTS (x64 .msi) or pass -NodeExe.' }
    $NodeExe = $found.Path
}
$nodeVersion = [version]((& $NodeExe -p 'process.versions.node') -join '').Trim()
if ($nodeVersion -lt $MinimumNode) { Stop-Installer "$NodeExe is Node.js $nodeVersion; the signer needs Node.js $MinimumNode or later (22 LTS recommended)." }

$InstallDir = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($InstallDir).TrimEnd('\')
$InstallJs = Join-Path $InstallDir 'services\signer\dist\install.js'
if (-not (Test-Path -LiteralPath $InstallJs)) { Stop-Installer "$InstallJs is missing: copy the built release to $InstallDir (or pass -InstallDir)." }

$planArguments = @('--install-dir', $InstallDir, '--service-name', $ServiceName, '--node-exe', $NodeExe)
if ($ConfigFile) { $planArguments += @('--config-file', $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($ConfigFile)) }
if ($ServiceAccount) { $planArguments += @('--service-account', $ServiceAccount) }
if ($WinSWExe) { $planArguments += @('--winsw-exe', $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($WinSWExe)) }
if ($UpdatePin) { $planArguments += '--update-pin' }
if ($SkipDoctor) { $planArguments += '--skip-doctor' }
$existing = Get-CimInstance -ClassName Win32_Service -Filter "Name='$ServiceName'" -ErrorAction SilentlyContinue
if ($null -ne $existing -and $existing.StartName) { $planArguments += @('--current-service-account', [string]$existing.StartName) }

# Node writes UTF-8; PowerShell decodes a program's output with [Console]::OutputEncoding.
try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding($false) } catch { Write-Verbose 'no console encoding to set' }
if ($WhatIfPreference) {
    & $NodeExe $InstallJs --dry-run @planArguments
    exit $LASTEXITCODE
}
$planText = (& $NodeExe $InstallJs --plan-json @planArguments) -join "`n"
if ($LASTEXITCODE -ne 0) { Stop-Installer 'the settings or parameters are not right (listed above); nothing was changed.' 2 }
$plan = $planText | ConvertFrom-Json
foreach ($warning in $plan.warnings) { Write-Warning $warning }

# --------------------------------------------------------------------------------------------------
# The steps, as the plan says
# --------------------------------------------------------------------------------------------------

$ready = $true
$number = 0
foreach ($step in $plan.steps) {
    $number++
    Write-Host ''
    Write-Host ("[{0}/{1}] {2}" -f $number, @($plan.steps).Count, $step.title) -ForegroundColor Cyan
    switch ($step.kind) {
        'require-path' {
            if (-not (Test-Path -LiteralPath $step.path)) { Stop-Installer "$($step.path) is missing: $($step.missing). Nothing was changed." }
        }
        'stop-service' {
            $service = Get-Service -Name $step.service -ErrorAction SilentlyContinue
            if ($null -ne $service -and $service.Status -ne 'Stopped') { Stop-Service -Name $step.service }
        }
        'create-directory' {
            if (-not (Test-Path -LiteralPath $step.path)) { New-Item -ItemType Directory -Path $step.path -Force | Out-Null }
        }
        'set-acl' { Set-Access -Path $step.path -Mode $step.mode -Grants $step.grants -RemoveSids $step.removeSids }
        'copy-file' {
            $same = (Test-Path -LiteralPath $step.to) -and ((Get-FileHash -LiteralPath $step.to).Hash -eq (Get-FileHash -LiteralPath $step.from).Hash)
            if (-not $same) { Copy-Item -LiteralPath $step.from -Destination $step.to -Force; Unblock-File -LiteralPath $step.to }
        }
        'write-file' { [System.IO.File]::WriteAllText($step.path, $step.text, (New-Object System.Text.UTF8Encoding($false))) }
        'pin-file' { Write-PinFile $step }
        'install-service' {
            $record = Get-CimInstance -ClassName Win32_Service -Filter "Name='$($step.service)'" -ErrorAction SilentlyContinue
            if ($null -eq $record) {
                Invoke-Checked $step.wrapperExe @('install')
            } elseif ($record.PathName -notlike "*$($step.wrapperExe)*") {
                Stop-Installer "a service named $($step.service) exists but runs $($record.PathName); choose another -ServiceName or remove that service."
            }
        }
        'configure-service' { foreach ($arguments in $step.scArguments) { Invoke-ServiceControl $arguments } }
        'set-service-account' { Set-ServiceAccount $step }
        'start-service' { $ready = (Start-Signer $step) -and $ready }
        'run-doctor' { $ready = (Invoke-Doctor $step) -and $ready }
        default { Stop-Installer "this installer does not know the step '$($step.kind)'; use the install-signer.ps1 of the same release as install.js." }
    }
}

Write-Host ''
if ($ready) {
    Write-Host "Done: $ServiceName is running and ready; every doctor check passed." -ForegroundColor Green
    exit 0
}
Write-Host "Installed, but not everything is right yet: see the state and the doctor output above. Status any time: $(Join-Path $PSScriptRoot 'check-signer.ps1')" -ForegroundColor Yellow
exit 1
