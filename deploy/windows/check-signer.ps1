#Requires -Version 5.1
<#
.SYNOPSIS
    Quick status of the ceb179 signer on the card PC: the service, its health, what to do, the log.

.DESCRIPTION
    Shows
      - the Windows service (state, start mode, account, uptime);
      - GET http://127.0.0.1:<port>/health, field by field, and what to do in that state
        (ready, starting, paused-for-pin, reader-fault, expired);
      - what the signer remembers of PIN refusals (pin-state.js show), when it is paused for its PIN;
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
    The settings file. Default <InstallDir>\signer.env. Read through install.js --plan-json (the
    installer's plan), for the health port, the doctor's settings and the state folder.

.PARAMETER HealthPort
    Overrides the port (default: CEB179_SIGNER_HEALTH_PORT from the settings file, else 9179).

.PARAMETER Lines
    How many log lines to show. Default 20.

.PARAMETER Raw
    Show the log lines as they are (JSON) instead of formatted.

.PARAMETER Doctor
    Also run the doctor (node services\signer\dist\doctor.js) with the service's settings (the
    installer's plan), WITHOUT --check-pin: it checks the control, the card, the certificate, the broker
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

function Get-SignerPlan {
    # The installer's plan (install.js --plan-json, the signer's tested command) for the health port,
    # the doctor's settings and the state folder: this script reads signer.env no other way.
    # $null when it cannot be had (not Administrator: signer.env is not readable; a broken setting).
    $node = $null
    $xmlPath = Join-Path $InstallDir "$ServiceName.xml"
    if (Test-Path -LiteralPath $xmlPath) {
        try { $node = ([xml](Get-Content -LiteralPath $xmlPath -Raw -Encoding UTF8)).service.executable } catch { $node = $null }
    }
    if (-not $node) {
        $found = Get-Command -Name node.exe -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
        if ($null -ne $found) { $node = $found.Path }
    }
    $installJs = Join-Path $InstallDir 'services\signer\dist\install.js'
    if (-not $node -or -not (Test-Path -LiteralPath $installJs)) { return $null }
    try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding($false) } catch { Write-Verbose 'no console encoding to set' }
    $ErrorActionPreference = 'Continue'
    $text = (& $node $installJs --plan-json --install-dir $InstallDir --service-name $ServiceName --config-file $ConfigFile --node-exe $node 2>&1 | ForEach-Object { "$_" }) -join "`n"
    if ($LASTEXITCODE -ne 0) {
        Write-Host "   (install.js could not read the settings: $text)" -ForegroundColor DarkGray
        return $null
    }
    return $text | ConvertFrom-Json
}

function Invoke-WithSettings {
    # Runs a signer command with the service's settings (the plan's) in this process's environment
    # for its duration only, then restores it.
    param([string[]]$Command, $Environment, [string]$Directory)
    $names = @(@($Environment.PSObject.Properties | ForEach-Object { $_.Name }) + @(Get-ChildItem Env: | Where-Object { $_.Name -like 'CEB179_*' } | ForEach-Object { $_.Name }) | Select-Object -Unique)
    $saved = @{}
    foreach ($name in $names) { $saved[$name] = [Environment]::GetEnvironmentVariable($name, 'Process') }
    Push-Location -LiteralPath $Directory
    try {
        foreach ($name in $names) { [Environment]::SetEnvironmentVariable($name, $null, 'Process') }
        foreach ($property in $Environment.PSObject.Properties) { [Environment]::SetEnvironmentVariable($property.Name, [string]$property.Value, 'Process') }
        $ErrorActionPreference = 'Continue'
        $program = $Command[0]
        $arguments = @($Command | Select-Object -Skip 1)
        & $program @arguments 2>&1 | ForEach-Object { Write-Host "   $_" }
        return $LASTEXITCODE
    } finally {
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
$Plan = $null
if ($IsAdministrator) { $Plan = Get-SignerPlan }
if ($HealthPort -eq 0) {
    $HealthPort = $DefaultHealthPort
    if ($null -ne $Plan -and $Plan.healthPort -gt 0) { $HealthPort = [int]$Plan.healthPort }
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
                'The card REFUSED the PIN (or a call carrying the PIN ended without an answer, the first time',
                'this card saw that PIN). The signer stopped taking jobs and remembers the refusal in its state',
                'folder: neither it, nor a restart, nor the doctor sends that PIN to this card again.',
                'A few wrong PINs lock the operator card (操作员卡); unlocking it needs a trip to the card issuer.',
                '',
                '  1. Read the reason above, and what the signer remembers (below, as Administrator).',
                '  2. Find the right PIN of THIS operator card (卡口令) - do not try PINs.',
                '  3. Put it in the PIN file and restart, with',
                "       install-signer.ps1 -InstallDir $InstallDir -UpdatePin",
                '     (asks for the PIN without showing it, writes and checks the file, restarts). The new PIN',
                '     gets one try. Restarting with the same PIN sends nothing and stays paused.',
                '  4. Only if the issuer unlocked the card and the SAME PIN is right again: forget the refusal',
                '     with pin-state.js clear (docs\signer-pin-safety.md), then restart once.',
                '  5. Run this script again: the state must become "ready".'
            ) 'Red'
            if ($null -ne $Plan) {
                Write-Host ''
                $pinState = @($Plan.paths.nodeExe, $Plan.paths.pinStateJs, 'show')
                [void](Invoke-WithSettings -Command $pinState -Environment ([pscustomobject]@{ CEB179_SIGNER_STATE_DIR = $Plan.paths.stateDir }) -Directory $InstallDir)
            }
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
    $doctorStep = $null
    if ($null -ne $Plan) { $doctorStep = @($Plan.steps | Where-Object { $_.kind -eq 'run-doctor' }) | Select-Object -First 1 }
    if ($null -eq $doctorStep) {
        Write-Host '   (the doctor needs the settings in signer.env: run this script as Administrator, with a valid signer.env)' -ForegroundColor DarkGray
    } else {
        $code = Invoke-WithSettings -Command @($doctorStep.command) -Environment $doctorStep.env -Directory $doctorStep.workingDirectory
        Write-Host "   (doctor exit code ${code}: 0 = every check passed)" -ForegroundColor DarkGray
    }
}

Write-Host ''
Write-Host "   Metrics: http://127.0.0.1:$HealthPort/metrics    Doctor: check-signer.ps1 -Doctor" -ForegroundColor DarkGray
exit $exitCode
