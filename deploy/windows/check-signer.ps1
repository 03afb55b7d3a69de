#Requires -Version 5.1
<#
.SYNOPSIS
    Quick status of the ceb179 signer on the card PC: the service, its health, what to do, the log.

.DESCRIPTION
    Shows
      - the Windows service (state, start mode, account, uptime);
      - GET http://127.0.0.1:<port>/health, field by field, and what to do in that state
        (ready, starting, paused-for-pin, reader-fault, expired);
      - the last lines of the signer's log (<InstallDir>\logs\<ServiceName>.out.log, pino JSON lines,
        shown one per line as "time level message key=value ...").
    Changes nothing, spends no PIN attempt. Run it as Administrator to see the log and to read the
    health port from signer.env (both are readable by Administrators only).

    Exit code: 0 = ready; 1 = running but not ready (starting, paused-for-pin, reader-fault,
    expired); 2 = the service is not running or its health endpoint does not answer. Usable from a
    scheduled task or a monitoring agent.

    This file is saved as UTF-8 with BOM so that Windows PowerShell 5.1 reads its Chinese text.

.PARAMETER InstallDir
    Where the signer is installed. Default C:\ceb179.

.PARAMETER ServiceName
    Default ceb179-signer.

.PARAMETER ConfigFile
    The settings file, to read CEB179_SIGNER_HEALTH_PORT from. Default <InstallDir>\signer.env.

.PARAMETER HealthPort
    Overrides the port (default: CEB179_SIGNER_HEALTH_PORT from the settings file, else 9179).

.PARAMETER Lines
    How many log lines to show. Default 20.

.PARAMETER Raw
    Show the log lines as they are (JSON) instead of formatted.

.PARAMETER Doctor
    Also run the doctor (node services\signer\dist\doctor.js) with the service's settings from
    signer.env, WITHOUT --check-pin: it checks the control, the card, the certificate, the broker
    and the queues, and spends no PIN attempt. Needs Administrator (it reads signer.env).

.EXAMPLE
    .\check-signer.ps1

.EXAMPLE
    .\check-signer.ps1 -Lines 100 -Raw

.EXAMPLE
    .\check-signer.ps1 -Doctor
#>
[CmdletBinding()]
param(
    [string]$InstallDir = 'C:\ceb179',
    [ValidatePattern('^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$')]
    [string]$ServiceName = 'ceb179-signer',
    [string]$ConfigFile,
    [ValidateRange(0, 65535)]
    [int]$HealthPort = 0,
    [ValidateRange(1, 10000)]
    [int]$Lines = 20,
    [switch]$Raw,
    [switch]$Doctor
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$DefaultHealthPort = 9179
$ExpiryWarningDays = 30

function Write-Section {
    param([string]$Title)
    Write-Host ''
    Write-Host "== $Title" -ForegroundColor Cyan
}

function Write-Field {
    param([string]$Name, $Value, [string]$Color = '')
    $text = '{0,-15} {1}' -f ($Name + ':'), $Value
    if ($Color) { Write-Host "   $text" -ForegroundColor $Color } else { Write-Host "   $text" }
}

function Write-Advice {
    param([string[]]$Text, [string]$Color = 'Yellow')
    foreach ($line in $Text) { Write-Host "   $line" -ForegroundColor $Color }
}

function Get-JsonField {
    # Strict-mode-safe read of a field JSON.stringify may have left out (undefined values).
    param($Object, [string]$Name)
    if ($null -eq $Object) { return $null }
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property) { return $null }
    return $property.Value
}

function ConvertTo-UtcDate {
    # ISO text from /health or the log (PowerShell 7's ConvertFrom-Json already makes it a date).
    param($Value)
    if ($null -eq $Value -or '' -eq $Value) { return $null }
    if ($Value -is [datetime]) { return $Value.ToUniversalTime() }
    $styles = [System.Globalization.DateTimeStyles]::AdjustToUniversal -bor [System.Globalization.DateTimeStyles]::AssumeUniversal
    $parsed = [datetime]::MinValue
    if ([datetime]::TryParse([string]$Value, [System.Globalization.CultureInfo]::InvariantCulture, $styles, [ref]$parsed)) { return $parsed }
    return $null
}

function Format-Age {
    param([datetime]$Utc)
    $age = [datetime]::UtcNow - $Utc
    if ($age.TotalSeconds -lt 0) { return 'in the future (check the PC clock)' }
    if ($age.TotalMinutes -lt 2) { return "$([int]$age.TotalSeconds) s ago" }
    if ($age.TotalHours -lt 2) { return "$([int]$age.TotalMinutes) min ago" }
    if ($age.TotalDays -lt 2) { return "$([int]$age.TotalHours) h ago" }
    return "$([int]$age.TotalDays) days ago"
}

function Get-SignerHealth {
    # GET /health: 200 (ready, starting) or 503 (other states), both with the JSON body; $null if
    # nothing answers. HttpWebRequest, because Invoke-RestMethod in Windows PowerShell 5.1 throws
    # away the body of a 503.
    param([int]$Port, [int]$TimeoutMs = 3000)
    $request = [System.Net.HttpWebRequest]::Create("http://127.0.0.1:$Port/health")
    $request.Method = 'GET'
    $request.Timeout = $TimeoutMs
    $request.Proxy = $null
    $response = $null
    try {
        $response = $request.GetResponse()
    } catch {
        $web = $_.Exception
        while ($null -ne $web -and -not ($web -is [System.Net.WebException])) { $web = $web.InnerException }
        if ($null -eq $web -or $null -eq $web.Response) { return $null }
        $response = $web.Response
    }
    try {
        $reader = New-Object System.IO.StreamReader($response.GetResponseStream(), [System.Text.Encoding]::UTF8)
        $body = $reader.ReadToEnd()
        $status = [int]$response.StatusCode
    } finally {
        $response.Close()
    }
    $parsed = $null
    try { $parsed = $body | ConvertFrom-Json } catch { $parsed = $null }
    return [pscustomobject]@{ StatusCode = $status; Body = $body; Health = $parsed }
}

function Read-HealthPortSetting {
    # CEB179_SIGNER_HEALTH_PORT from signer.env; $null if unset or unreadable.
    param([string]$Path)
    if (-not (Test-Path -LiteralPath $Path)) { return $null }
    try {
        foreach ($line in [System.IO.File]::ReadAllLines($Path, [System.Text.Encoding]::UTF8)) {
            if ($line -match '^\s*CEB179_SIGNER_HEALTH_PORT\s*=\s*["'']?(\d+)["'']?\s*$') { return [int]$Matches[1] }
        }
    } catch [System.UnauthorizedAccessException] {
        Write-Host "   (cannot read ${Path}: run as Administrator to use its CEB179_SIGNER_HEALTH_PORT)" -ForegroundColor DarkGray
    }
    return $null
}

function Format-LogLine {
    # One pino JSON line -> "local time  LEVEL  message  key=value ...". Unparsable lines as they are.
    param([string]$Line)
    $entry = $null
    try { $entry = $Line | ConvertFrom-Json } catch { $entry = $null }
    if ($null -eq $entry -or $null -eq (Get-JsonField $entry 'msg')) { return [pscustomobject]@{ Text = $Line; Level = '' } }
    $time = ConvertTo-UtcDate (Get-JsonField $entry 'time')
    $when = ''
    if ($null -ne $time) { $when = $time.ToLocalTime().ToString('yyyy-MM-dd HH:mm:ss') }
    $level = [string](Get-JsonField $entry 'level')
    $extras = @()
    foreach ($key in @('sessionID', 'alert', 'problem', 'err', 'reason', 'certNo', 'algorithm', 'daysLeft', 'queue', 'retryInMs', 'delayMs', 'url')) {
        $value = Get-JsonField $entry $key
        if ($null -ne $value -and '' -ne [string]$value) { $extras += "$key=$value" }
    }
    $text = '{0} {1,-5} {2}' -f $when, $level.ToUpperInvariant(), (Get-JsonField $entry 'msg')
    if ($extras.Count -gt 0) { $text += '  ' + ($extras -join ' ') }
    return [pscustomobject]@{ Text = $text; Level = $level }
}

function Invoke-SignerDoctor {
    # The doctor reads its settings from the environment, like the service: load signer.env into
    # this process for the duration (same rules as install-signer.ps1: KEY=VALUE, # comments, empty
    # value = default), with the node.exe the service uses (from its XML), then restore.
    $node = $null
    $xmlPath = Join-Path $InstallDir "$ServiceName.xml"
    if (Test-Path -LiteralPath $xmlPath) {
        try { $node = ([xml](Get-Content -LiteralPath $xmlPath -Raw -Encoding UTF8)).service.executable } catch { $node = $null }
    }
    if (-not $node) {
        $found = Get-Command -Name node.exe -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
        if ($null -ne $found) { $node = $found.Path }
    }
    if (-not $node) { Write-Host '   node.exe not found' -ForegroundColor Red; return }
    $settings = [ordered]@{}
    foreach ($line in [System.IO.File]::ReadAllLines($ConfigFile, [System.Text.Encoding]::UTF8)) {
        $text = $line.Trim()
        if ($text -eq '' -or $text.StartsWith('#') -or $text.IndexOf('=') -lt 1) { continue }
        $key = $text.Substring(0, $text.IndexOf('=')).Trim()
        $value = $text.Substring($text.IndexOf('=') + 1).Trim()
        if ($value.Length -ge 2 -and (($value[0] -eq '"' -and $value[$value.Length - 1] -eq '"') -or ($value[0] -eq "'" -and $value[$value.Length - 1] -eq "'"))) {
            $value = $value.Substring(1, $value.Length - 2)
        }
        if ($key -match '^[A-Za-z_][A-Za-z0-9_]*$' -and $value -ne '') { $settings[$key] = $value }
    }
    $names = @(@($settings.Keys) + @(Get-ChildItem Env: | Where-Object { $_.Name -like 'CEB179_*' } | ForEach-Object { $_.Name }) | Select-Object -Unique)
    $saved = @{}
    foreach ($name in $names) { $saved[$name] = [Environment]::GetEnvironmentVariable($name, 'Process') }
    $previousEncoding = $null
    Push-Location -LiteralPath $InstallDir
    try {
        foreach ($name in $names) { [Environment]::SetEnvironmentVariable($name, $null, 'Process') }
        foreach ($key in @($settings.Keys)) { [Environment]::SetEnvironmentVariable([string]$key, [string]$settings[$key], 'Process') }
        # Node writes UTF-8; PowerShell decodes a program's output with [Console]::OutputEncoding.
        try { $previousEncoding = [Console]::OutputEncoding; [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding($false) } catch { $previousEncoding = $null }
        $ErrorActionPreference = 'Continue'
        & $node (Join-Path $InstallDir 'services\signer\dist\doctor.js') 2>&1 | ForEach-Object { Write-Host "   $_" }
        Write-Host "   (doctor exit code ${LASTEXITCODE}: 0 = every check passed)" -ForegroundColor DarkGray
    } finally {
        if ($null -ne $previousEncoding) { try { [Console]::OutputEncoding = $previousEncoding } catch { Write-Verbose 'encoding not restored' } }
        foreach ($name in $names) { [Environment]::SetEnvironmentVariable($name, $saved[$name], 'Process') }
        Pop-Location
    }
}

function Test-Administrator {
    $principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
    return $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
}

$InstallDir = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($InstallDir).TrimEnd('\')
# The install folder (settings, logs) is readable by SYSTEM and Administrators only.
$IsAdministrator = Test-Administrator
if (-not $IsAdministrator) {
    Write-Host 'Not running as Administrator: the settings file and the log are not readable; showing the service and its health only.' -ForegroundColor DarkGray
}
if (-not $ConfigFile) { $ConfigFile = Join-Path $InstallDir 'signer.env' }
$ConfigFile = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($ConfigFile)
$LogDir = Join-Path $InstallDir 'logs'
$OutLog = Join-Path $LogDir "$ServiceName.out.log"
$ErrLog = Join-Path $LogDir "$ServiceName.err.log"
$exitCode = 0

# --------------------------------------------------------------------------------------------------
Write-Section "Service $ServiceName"
# --------------------------------------------------------------------------------------------------
$record = Get-CimInstance -ClassName Win32_Service -Filter "Name='$ServiceName'" -ErrorAction SilentlyContinue
if ($null -eq $record) {
    Write-Field 'State' 'not installed' 'Red'
    Write-Advice @("Install it: deploy\windows\install-signer.ps1 (as Administrator).")
    exit 2
}
$stateColor = 'Green'
if ($record.State -ne 'Running') { $stateColor = 'Red' }
Write-Field 'State' $record.State $stateColor
$startMode = [string]$record.StartMode
if ((Get-JsonField $record 'DelayedAutoStart') -eq $true) { $startMode += ' (delayed)' }
Write-Field 'Start mode' $startMode
Write-Field 'Account' $record.StartName
if ($record.State -eq 'Running' -and $record.ProcessId) {
    try {
        $started = (Get-Process -Id $record.ProcessId).StartTime
        Write-Field 'Running since' ("{0} ({1})" -f $started.ToString('yyyy-MM-dd HH:mm:ss'), (Format-Age $started.ToUniversalTime()))
    } catch {
        Write-Verbose 'process start time not readable'
    }
}
if ($record.State -ne 'Running') {
    Write-Advice @(
        'The signer is not running. Start it once:  Start-Service ' + $ServiceName,
        "If it stops again, the reason is at the end of $ErrLog (a bad setting names its variable)",
        "and of $(Join-Path $LogDir "$ServiceName.wrapper.log") (WinSW: node.exe not found, ...)."
    )
    $exitCode = 2
}

# --------------------------------------------------------------------------------------------------
if ($HealthPort -eq 0) {
    $HealthPort = $DefaultHealthPort
    $fromFile = Read-HealthPortSetting -Path $ConfigFile
    if ($null -ne $fromFile -and $fromFile -gt 0) { $HealthPort = $fromFile }
}
$url = "http://127.0.0.1:$HealthPort/health"
Write-Section "Health $url"
# --------------------------------------------------------------------------------------------------
$answer = $null
if ($record.State -eq 'Running') { $answer = Get-SignerHealth -Port $HealthPort }
if ($null -eq $answer -or $null -eq $answer.Health) {
    if ($record.State -eq 'Running') {
        Write-Field 'State' 'no answer' 'Red'
        Write-Advice @(
            'The service runs but nothing answers on the health port. It may be starting (give it a',
            'minute), crash-looping (see the log below), or CEB179_SIGNER_HEALTH_PORT differs (-HealthPort).'
        )
    } else {
        Write-Field 'State' 'not running' 'Red'
    }
    if ($null -ne $answer -and $null -eq $answer.Health) { Write-Host "   unexpected answer (HTTP $($answer.StatusCode)): $($answer.Body)" }
    $exitCode = 2
} else {
    $health = $answer.Health
    $daysLeft = $null
    $state = [string](Get-JsonField $health 'state')
    $reason = [string](Get-JsonField $health 'reason')
    $color = 'Yellow'
    if ($state -eq 'ready') { $color = 'Green' }
    if ($state -eq 'paused-for-pin' -or $state -eq 'expired') { $color = 'Red' }
    Write-Field 'State' "$state (HTTP $($answer.StatusCode))" $color
    if ($reason) { Write-Field 'Reason' $reason $color }
    Write-Field 'Signer id' (Get-JsonField $health 'signerId')
    $ebpCodes = @(Get-JsonField $health 'ebpCodes')
    $ebpText = 'all (ceb179.sign-jobs.any)'
    if ($ebpCodes.Count -gt 0 -and $null -ne $ebpCodes[0]) { $ebpText = $ebpCodes -join ', ' }
    Write-Field 'ebpCodes' $ebpText
    $certNo = Get-JsonField $health 'certNo'
    if ($certNo) {
        Write-Field 'Card id' (Get-JsonField $health 'cardId')
        Write-Field 'certNo' "$certNo (lowercase, as customs registers it)"
        Write-Field 'Algorithm' (Get-JsonField $health 'algorithm')
        $daysLeft = Get-JsonField $health 'daysLeft'
        $notAfter = ConvertTo-UtcDate (Get-JsonField $health 'notAfter')
        $expiryColor = ''
        if ($null -ne $daysLeft -and [int]$daysLeft -le $ExpiryWarningDays) { $expiryColor = 'Yellow' }
        if ($null -ne $daysLeft -and [int]$daysLeft -lt 0) { $expiryColor = 'Red' }
        $notAfterText = ''
        if ($null -ne $notAfter) { $notAfterText = $notAfter.ToLocalTime().ToString('yyyy-MM-dd HH:mm') }
        Write-Field 'Valid until' "$notAfterText ($daysLeft days left)" $expiryColor
    } else {
        Write-Field 'Card' 'not identified yet'
    }
    $lastSuccess = ConvertTo-UtcDate (Get-JsonField $health 'lastSuccessAt')
    if ($null -ne $lastSuccess) {
        Write-Field 'Last signature' ("{0} ({1})" -f $lastSuccess.ToLocalTime().ToString('yyyy-MM-dd HH:mm:ss'), (Format-Age $lastSuccess))
    } else {
        Write-Field 'Last signature' 'none since the signer started'
    }
    Write-Field 'Counters' ("signatures {0}, reader faults {1}, bad signatures {2}" -f (Get-JsonField $health 'signatures'), (Get-JsonField $health 'readerFaults'), (Get-JsonField $health 'badSignatures'))
    Write-Host ''

    switch ($state) {
        'ready' {
            Write-Advice @('Signing. Nothing to do.') 'Green'
            if ((Get-JsonField $health 'expiringSoon') -eq $true) {
                Write-Advice @(
                    "The card certificate expires in $daysLeft days. Renew it with the card issuer now (证书更新/延期).",
                    'A renewed certificate usually has a new certNo: register it with customs for every ebpCode',
                    'before the old one expires, or uploads fail with 20004. Then restart the signer once.'
                )
            }
        }
        'starting' {
            Write-Advice @(
                'The signer is starting: it connects to RabbitMQ, reads the card and makes ONE probe signature',
                '(its one PIN attempt). Check again in a minute. If it stays "starting", read the log below.'
            )
            $exitCode = 1
        }
        'paused-for-pin' {
            Write-Advice @(
                'The card REFUSED the PIN (or a call carrying the PIN failed in a way that may be a PIN failure).',
                'The signer stopped taking jobs and will NOT try the PIN again by itself.',
                '',
                'Do NOT restart it blindly: every restart tries the PIN once more. A few wrong PINs lock the',
                'operator card (操作员卡), and unlocking it needs a trip to the card issuer.',
                '',
                '  1. Read the reason above. If it names a reader fault rather than the PIN, fix that first.',
                '  2. Find the right PIN of THIS operator card (卡口令) - do not guess.',
                '  3. Put it in the PIN file and restart ONCE, either with',
                "       install-signer.ps1 -InstallDir $InstallDir -UpdatePin",
                '     (asks for the PIN without showing it, writes the file correctly, restarts), or by writing',
                '     the file yourself (UTF-8 without BOM, no newline) and then:',
                "       Restart-Service -Name $ServiceName",
                '  4. Run this script again: the state must become "ready".'
            ) 'Red'
            $exitCode = 1
        }
        'reader-fault' {
            Write-Advice @(
                'The card or the E-Port control does not answer (Err:Custom50070 reader reset failed,',
                'Err:Custom50200 reader open failed / no card, or the control is unreachable). Jobs wait in the',
                'queue, or another card PC serving the same ebpCodes takes them. The signer probes the card with',
                'a PIN-free call and resumes by itself once it answers: no signer restart is needed.',
                '  - Re-seat the operator card (拔出重插) and check the reader''s cable and light.',
                '  - Restart the China E-Port client control (中国电子口岸客户端控件), or the PC.',
                '  - Check the control listens:  Test-NetConnection 127.0.0.1 -Port 61232',
                '  - To restart the control automatically, set CEB179_SIGNER_CONTROL_RESTART_COMMAND (signer.env).'
            )
            $exitCode = 1
        }
        'expired' {
            Write-Advice @(
                'The card cannot sign: its certificate has expired or is not valid yet, or its probe signature',
                'did not verify against its certificate. Read the reason above.',
                '  - Expired: renew the certificate with the card issuer (证书更新/延期) and register the new',
                '    certNo with customs for every ebpCode; then restart once: Restart-Service -Name ' + $ServiceName,
                '  - Not valid yet / just expired: check the PC clock (w32tm /query /status).',
                '  - Wrong card: the signer needs the operator card (操作员卡), not the legal-person card (法人卡).',
                '    Insert the right card, then restart once.'
            ) 'Red'
            $exitCode = 1
        }
        default {
            Write-Advice @("Unknown state '$state'; see the log below.")
            $exitCode = 1
        }
    }
}

# --------------------------------------------------------------------------------------------------
Write-Section "Last $Lines log lines ($OutLog)"
# --------------------------------------------------------------------------------------------------
try {
    if (-not $IsAdministrator) {
        Write-Host '   (the log is readable by Administrators only: run this script as Administrator)' -ForegroundColor DarkGray
    } elseif (Test-Path -LiteralPath $OutLog) {
        foreach ($line in (Get-Content -LiteralPath $OutLog -Tail $Lines -Encoding UTF8)) {
            if ($Raw) { Write-Host "   $line"; continue }
            $formatted = Format-LogLine $line
            $color = ''
            if ($formatted.Level -eq 'fatal' -or $formatted.Level -eq 'error') { $color = 'Red' }
            elseif ($formatted.Level -eq 'warn') { $color = 'Yellow' }
            if ($color) { Write-Host "   $($formatted.Text)" -ForegroundColor $color } else { Write-Host "   $($formatted.Text)" }
        }
    } else {
        Write-Host '   (no log yet)'
    }
    if ((Test-Path -LiteralPath $ErrLog) -and (Get-Item -LiteralPath $ErrLog).Length -gt 0) {
        Write-Section "Last lines of $ErrLog"
        Get-Content -LiteralPath $ErrLog -Tail 5 -Encoding UTF8 | ForEach-Object { Write-Host "   $_" }
    }
} catch [System.UnauthorizedAccessException] {
    Write-Host '   (the log is readable by Administrators only: run this script as Administrator)' -ForegroundColor DarkGray
}

# --------------------------------------------------------------------------------------------------
if ($Doctor) {
    Write-Section 'Doctor (without --check-pin: no PIN attempt)'
    # --------------------------------------------------------------------------------------------------
    if (-not $IsAdministrator) {
        Write-Host '   (the doctor needs the settings in signer.env: run this script as Administrator)' -ForegroundColor DarkGray
    } else {
        Invoke-SignerDoctor
    }
}

Write-Host ''
Write-Host "   Metrics: http://127.0.0.1:$HealthPort/metrics    Doctor: check-signer.ps1 -Doctor" -ForegroundColor DarkGray
exit $exitCode
