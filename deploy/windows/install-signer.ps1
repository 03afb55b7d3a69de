#Requires -Version 5.1
<#
.SYNOPSIS
    Installs or updates the ceb179 signer as a Windows service on the card PC (WinSW wrapper).

.DESCRIPTION
    Run as Administrator on the Windows PC that holds the operator card reader and the China E-Port
    client control (中国电子口岸客户端控件, ws://127.0.0.1:61232). The script:

      1. checks: Administrator, 64-bit Windows, Node.js >= 20.10 (package.json "engines"), the built
         repository in -InstallDir (services\signer\dist\main.js and doctor.js, node_modules), the
         WinSW executable, and -ConfigFile (signer.env, see signer.env.template);
      2. refuses to restart a signer that is paused because the card refused its PIN, unless the PIN
         file changed since (see "PIN safety" below);
      3. restricts -InstallDir to SYSTEM and Administrators (the service runs as LocalSystem: nobody
         else may change its code or read the broker credentials), creates logs\ and secrets\;
      4. creates the PIN file if it is missing (or with -UpdatePin): asks for the PIN twice without
         echoing it, writes it UTF-8 without BOM and without a trailing newline, and restricts it to
         SYSTEM and Administrators (plus the service account, if another one is used);
      5. copies WinSW as <InstallDir>\<ServiceName>.exe and generates <ServiceName>.xml next to it:
         node.exe services\signer\dist\main.js, one <env> per setting of signer.env (never the PIN:
         only CEB179_CARD_PIN_FILE, the path of the PIN file), restart on failure after 10 s, 30 s,
         60 s with the failure count reset after 1 hour, automatic delayed start, size-rolled UTF-8
         logs in <InstallDir>\logs;
      6. installs the service (or, when it exists, stops it and applies the new settings), sets the
         service account, starts it, waits for its health endpoint to leave "starting";
      7. runs the doctor (node services\signer\dist\doctor.js, WITHOUT --check-pin: it spends no PIN
         attempt) and prints its result.

    Re-running it is safe: it updates the XML and the wrapper, keeps the PIN file (unless
    -UpdatePin) and restarts the service. Use -WhatIf to see what it would do without changing
    anything (it then also skips the PIN prompt and the doctor).

    PIN safety. A few wrong PINs lock the operator card, and unlocking it needs a trip to the card
    issuer. The signer tries the PIN exactly once when it starts (its self-test signs a probe). If the
    card refuses, the signer does NOT exit: it stays up, paused (health state "paused-for-pin"), and
    makes no further PIN attempt until a person corrects the PIN file and restarts it. So the
    service's restart-on-failure only ever follows real crashes (an exit with an error: a bad
    setting, an unreachable broker at start), and none of those is caused by a PIN refusal; a crash
    before the self-test spends no attempt at all, and a crash after a successful self-test restarts
    with a PIN the card just accepted. What could still burn attempts is a person restarting a
    paused signer again and again with the same wrong PIN: this script refuses to do that.

    WinSW: download WinSW-x64.exe from the WinSW releases on GitHub (https://github.com/winsw/winsw/
    releases; the 2.x line, e.g. v2.12.0, is the stable one; the x64 build needs no .NET install) on
    any machine with internet access, carry it to the card PC, and pass its path with -WinSWExe.
    Keep its SHA-256 (printed below) and use the same file on every card PC. On later runs
    -WinSWExe may be left out: the copy in -InstallDir is reused.

    This file is saved as UTF-8 with BOM so that Windows PowerShell 5.1 reads its Chinese text.

.PARAMETER InstallDir
    The built repository (a release: `npm ci && npm run build && npm prune --omit=dev` done on a
    build machine, copied here). Default C:\ceb179.

.PARAMETER NodeExe
    node.exe to run the signer with. Default: the node.exe on PATH (the Node.js 22 LTS .msi puts it
    in C:\Program Files\nodejs). Refused if older than 20.10.

.PARAMETER ConfigFile
    The settings file, KEY=VALUE lines (see signer.env.template). Default <InstallDir>\signer.env.
    If it is missing, the template is copied there and the script stops so you can fill it in.

.PARAMETER ServiceName
    Windows service name; also the name of the wrapper exe, its XML and the log files.
    Default ceb179-signer.

.PARAMETER WinSWExe
    Path of the WinSW-x64.exe you downloaded. Required on the first installation.

.PARAMETER ServiceAccount
    Run the service as this account instead of LocalSystem, e.g. 'NT SERVICE\ceb179-signer' (a
    virtual account: no password, least privilege; recommended if you do not want LocalSystem),
    'DOMAIN\gmsa$' (a group managed service account) or '.\ceb179svc' (a local user: the password
    is asked for, never shown or stored by this script). The account is granted read on the
    install folder and the PIN file, write on logs\, and "Log on as a service" where needed.
    Default: keep the current account of an existing service, else LocalSystem.

.PARAMETER UpdatePin
    Ask for the PIN again and rewrite the PIN file (after the card's PIN was changed, or after the
    signer paused for a refused PIN). The restart that follows spends ONE attempt with the new PIN.

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
    [ValidatePattern('^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$')]
    [string]$ServiceName = 'ceb179-signer',
    [string]$WinSWExe,
    [string]$ServiceAccount,
    [switch]$UpdatePin,
    [switch]$SkipDoctor
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# package.json "engines": ">=20.10 <23".
$MinimumNode = [version]'20.10.0'
$NodeMajorTestedBelow = 23
$DefaultHealthPort = 9179
# The signer's self-test (greeting, certificate, one probe signature) takes seconds; reader faults
# show up as "reader-fault" quickly. This only bounds how long the installer waits to report.
$HealthWaitSeconds = 90
# Well-known SIDs: names are localised on non-English Windows, SIDs are not.
$SidSystem = 'S-1-5-18'
$SidAdministrators = 'S-1-5-32-544'
$SidAuthenticatedUsers = 'S-1-5-11'
$SidUsers = 'S-1-5-32-545'
$SidEveryone = 'S-1-1-0'

# --------------------------------------------------------------------------------------------------
# Output helpers
# --------------------------------------------------------------------------------------------------

function Write-Step {
    param([string]$Text)
    Write-Host ''
    Write-Host "==> $Text" -ForegroundColor Cyan
}

function Write-Detail {
    param([string]$Text, [string]$Color = '')
    if ($Color) { Write-Host "    $Text" -ForegroundColor $Color } else { Write-Host "    $Text" }
}

function Exit-Installer {
    # Stops with a message that says what to do; nothing after the failed check was changed.
    param([string]$Reason, [int]$Code = 1)
    Write-Host ''
    Write-Host "STOPPED: $Reason" -ForegroundColor Red
    exit $Code
}

# --------------------------------------------------------------------------------------------------
# Small utilities
# --------------------------------------------------------------------------------------------------

function Test-Administrator {
    $identity = [Security.Principal.WindowsIdentity]::GetCurrent()
    $principal = New-Object Security.Principal.WindowsPrincipal($identity)
    return $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
}

function Invoke-NativeCommand {
    # Runs a program and returns its exit code and output lines. Windows PowerShell 5.1 turns a
    # program's stderr into error records, which $ErrorActionPreference = 'Stop' would make fatal;
    # here they stay plain text, and the caller decides from the exit code.
    param(
        [Parameter(Mandatory)][string]$FilePath,
        [string[]]$ArgumentList = @()
    )
    $ErrorActionPreference = 'Continue'
    $lines = @(& $FilePath @ArgumentList 2>&1 | ForEach-Object { "$_" })
    return [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = $lines }
}

function Invoke-CheckedCommand {
    param(
        [Parameter(Mandatory)][string]$FilePath,
        [string[]]$ArgumentList = @()
    )
    $result = Invoke-NativeCommand -FilePath $FilePath -ArgumentList $ArgumentList
    if ($result.ExitCode -ne 0) {
        throw "$FilePath $($ArgumentList -join ' ') failed (exit $($result.ExitCode)): $($result.Output -join ' ')"
    }
    return $result.Output
}

function Invoke-ServiceControl {
    # sc.exe with a verbatim command line. sc needs `password= ""` for accounts without a password,
    # and PowerShell 5.1 silently drops empty arguments to native programs; a verbatim command line
    # passes the same on 5.1 and 7.
    param([Parameter(Mandatory)][string]$Arguments)
    $startInfo = New-Object System.Diagnostics.ProcessStartInfo
    $startInfo.FileName = Join-Path $env:SystemRoot 'System32\sc.exe'
    $startInfo.Arguments = $Arguments
    $startInfo.UseShellExecute = $false
    $startInfo.RedirectStandardOutput = $true
    $startInfo.RedirectStandardError = $true
    $startInfo.CreateNoWindow = $true
    $process = [System.Diagnostics.Process]::Start($startInfo)
    $stdout = $process.StandardOutput.ReadToEnd()
    $stderr = $process.StandardError.ReadToEnd()
    $process.WaitForExit()
    if ($process.ExitCode -ne 0) {
        throw "sc.exe $Arguments failed (exit $($process.ExitCode)): $($stdout.Trim()) $($stderr.Trim())"
    }
}

function Set-ConsoleUtf8 {
    # Node writes UTF-8. PowerShell decodes a program's output with [Console]::OutputEncoding, so
    # it must be UTF-8 while the doctor runs, or Chinese text from the control comes out garbled.
    # Returns the previous encoding (to restore), or $null where there is no console to change.
    try {
        $previous = [Console]::OutputEncoding
        [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding($false)
        return $previous
    } catch {
        return $null
    }
}

function Restore-ConsoleEncoding {
    param($Previous)
    if ($null -ne $Previous) {
        try { [Console]::OutputEncoding = $Previous } catch { Write-Verbose 'console encoding not restored' }
    }
}

function Get-JsonField {
    # Strict-mode-safe read of a field that JSON.stringify may have left out (undefined values).
    param($Object, [string]$Name)
    if ($null -eq $Object) { return $null }
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property) { return $null }
    return $property.Value
}

function Get-AbsolutePath {
    # Relative to PowerShell's current location (which .NET's GetFullPath does not follow).
    param([Parameter(Mandatory)][string]$Path)
    return $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path)
}

function Resolve-FullPath {
    # Relative paths in signer.env are relative to the service's working directory, InstallDir.
    param([string]$Path, [string]$Base)
    if ([System.IO.Path]::IsPathRooted($Path)) { return [System.IO.Path]::GetFullPath($Path) }
    return [System.IO.Path]::GetFullPath([System.IO.Path]::Combine($Base, $Path))
}

function ConvertTo-PlainText {
    # SecureString -> string, for the moment it takes to write or compare it. Never printed.
    param([Parameter(Mandatory)][System.Security.SecureString]$Secure)
    $pointer = [Runtime.InteropServices.Marshal]::SecureStringToBSTR($Secure)
    try {
        return [Runtime.InteropServices.Marshal]::PtrToStringBSTR($pointer)
    } finally {
        [Runtime.InteropServices.Marshal]::ZeroFreeBSTR($pointer)
    }
}

# --------------------------------------------------------------------------------------------------
# signer.env
# --------------------------------------------------------------------------------------------------

function Read-SignerEnvFile {
    # KEY=VALUE lines; lines starting with # and blank lines are ignored; the value is everything
    # after the first "=", trimmed, with one pair of surrounding quotes removed. An empty value means
    # "use the signer's default" and is left out. Values are never echoed (they hold credentials).
    param([Parameter(Mandatory)][string]$Path)
    $settings = [ordered]@{}
    $number = 0
    foreach ($line in [System.IO.File]::ReadAllLines($Path, [System.Text.Encoding]::UTF8)) {
        $number++
        $text = $line.Trim()
        if ($text -eq '' -or $text.StartsWith('#')) { continue }
        $equals = $text.IndexOf('=')
        if ($equals -lt 1) { throw "${Path} line ${number}: not KEY=VALUE" }
        $key = $text.Substring(0, $equals).Trim()
        $value = $text.Substring($equals + 1).Trim()
        if ($key -notmatch '^[A-Za-z_][A-Za-z0-9_]*$') { throw "${Path} line ${number}: '$key' is not a variable name" }
        if ($value.Length -ge 2) {
            $first = $value[0]
            $last = $value[$value.Length - 1]
            if (($first -eq '"' -and $last -eq '"') -or ($first -eq "'" -and $last -eq "'")) {
                $value = $value.Substring(1, $value.Length - 2)
            }
        }
        if ($value -eq '') { continue }
        if ($settings.Contains($key)) { throw "${Path} line ${number}: $key is set twice" }
        $settings[$key] = $value
    }
    return $settings
}

function Test-SignerSettings {
    # Problems that would stop the service, or leak a secret, found before anything is installed.
    param([System.Collections.Specialized.OrderedDictionary]$Settings, [string]$ConfigPath)
    $problems = New-Object System.Collections.Generic.List[string]
    if ($Settings.Contains('CEB179_CARD_PIN')) {
        $problems.Add("CEB179_CARD_PIN is set in $ConfigPath. Remove that line: the PIN must come from the file named by CEB179_CARD_PIN_FILE, never from the service definition (it would be stored in the XML).")
    }
    if (-not $Settings.Contains('CEB179_AMQP_URL') -and -not $Settings.Contains('CEB179_AMQP_URL_FILE')) {
        $problems.Add("neither CEB179_AMQP_URL nor CEB179_AMQP_URL_FILE is set in $ConfigPath (the default points at a development broker on this PC).")
    }
    foreach ($key in @($Settings.Keys)) {
        $value = [string]$Settings[$key]
        if ($value -match 'CHANGE-ME|REPLACE-WITH|example\.com') {
            $problems.Add("$key still holds the template's placeholder; fill it in.")
        }
    }
    if ($Settings.Contains('CEB179_AMQP_URL')) {
        $amqp = [string]$Settings['CEB179_AMQP_URL']
        if ($amqp -notmatch '^amqps?://') { $problems.Add('CEB179_AMQP_URL must start with amqp:// or amqps://.') }
    }
    if ($Settings.Contains('CEB179_SIGNER_EBP_CODES')) {
        foreach ($code in ([string]$Settings['CEB179_SIGNER_EBP_CODES']).Split(',')) {
            $trimmed = $code.Trim()
            if ($trimmed -ne '' -and $trimmed -notmatch '^[0-9A-Za-z]{1,18}$') {
                $problems.Add("CEB179_SIGNER_EBP_CODES: '$trimmed' is not an ebpCode (letters and digits, at most 18).")
            }
        }
    }
    if ($Settings.Contains('CEB179_SIGNER_HEALTH_PORT')) {
        $port = 0
        if (-not [int]::TryParse([string]$Settings['CEB179_SIGNER_HEALTH_PORT'], [ref]$port) -or $port -lt 0 -or $port -gt 65535) {
            $problems.Add('CEB179_SIGNER_HEALTH_PORT must be a port number.')
        }
    }
    return , $problems
}

# --------------------------------------------------------------------------------------------------
# PIN file
# --------------------------------------------------------------------------------------------------

function Get-PinFileProblem {
    # Checks the bytes the signer will send to the card, without ever showing them. The signer reads
    # the file as UTF-8 and drops ONE final line break; anything else in the file is part of the PIN,
    # so a BOM or a stray newline would be a wrong PIN and cost an attempt.
    param([Parameter(Mandatory)][string]$Path)
    $bytes = [System.IO.File]::ReadAllBytes($Path)
    try {
        if ($bytes.Length -eq 0) { return 'the file is empty' }
        if ($bytes.Length -ge 3 -and $bytes[0] -eq 0xEF -and $bytes[1] -eq 0xBB -and $bytes[2] -eq 0xBF) {
            return 'it starts with a UTF-8 byte-order mark (BOM), which would be sent to the card as part of the PIN'
        }
        if ($bytes.Length -ge 2 -and (($bytes[0] -eq 0xFF -and $bytes[1] -eq 0xFE) -or ($bytes[0] -eq 0xFE -and $bytes[1] -eq 0xFF))) {
            return 'it is saved as UTF-16 ("Unicode"); it must be UTF-8 without BOM'
        }
        $end = $bytes.Length
        if ($bytes[$end - 1] -eq 0x0A) {
            $end--
            if ($end -ge 1 -and $bytes[$end - 1] -eq 0x0D) { $end-- }
        }
        if ($end -eq 0) { return 'it holds only a line break' }
        for ($i = 0; $i -lt $end; $i++) {
            $b = $bytes[$i]
            if ($b -eq 0x0A -or $b -eq 0x0D) { return 'it holds more than one line' }
            if ($b -lt 0x20 -or $b -eq 0x7F) { return 'it holds a control character (tab or similar)' }
        }
        if ($bytes[0] -eq 0x20 -or $bytes[$end - 1] -eq 0x20) { return 'it starts or ends with a space' }
        try {
            $strict = New-Object System.Text.UTF8Encoding($false, $true)
            [void]$strict.GetString($bytes, 0, $end)
        } catch {
            return 'it is not valid UTF-8 (saved as ANSI/GBK?)'
        }
        return $null
    } finally {
        [Array]::Clear($bytes, 0, $bytes.Length)
    }
}

function Read-CardPin {
    # Asks twice, never echoing; returns the PIN as UTF-8 bytes (caller clears them).
    for ($attempt = 1; $attempt -le 3; $attempt++) {
        Write-Host ''
        Write-Host '    Enter the OPERATOR card PIN (操作员卡口令). It is not shown. A wrong PIN costs one of the' -ForegroundColor Yellow
        Write-Host '    card''s few attempts at the first start; type it carefully.' -ForegroundColor Yellow
        $first = Read-Host -AsSecureString -Prompt '    PIN'
        $second = Read-Host -AsSecureString -Prompt '    PIN again'
        $a = ConvertTo-PlainText $first
        $b = ConvertTo-PlainText $second
        $same = [string]::Equals($a, $b, [System.StringComparison]::Ordinal)
        $problem = $null
        if ($a.Length -eq 0) { $problem = 'empty' }
        elseif ($a -ne $a.Trim()) { $problem = 'starts or ends with a space' }
        elseif ($a -match '[\x00-\x1F\x7F]') { $problem = 'holds a control character' }
        $bytes = $null
        if ($same -and -not $problem) { $bytes = (New-Object System.Text.UTF8Encoding($false)).GetBytes($a) }
        $a = $null
        $b = $null
        if (-not $same) { Write-Detail 'The two entries differ; again.' 'Red'; continue }
        if ($problem) { Write-Detail "That PIN $problem; again." 'Red'; continue }
        return , $bytes
    }
    Exit-Installer 'the PIN was not entered twice the same; nothing was written.'
}

function Protect-File {
    # Only SYSTEM and Administrators (and, if given, one reader SID) may access the file; nothing
    # is inherited from the folder.
    [CmdletBinding(SupportsShouldProcess)]
    param([Parameter(Mandatory)][string]$Path, [string]$ReaderSid)
    $grants = @("*${SidSystem}:F", "*${SidAdministrators}:F")
    if ($ReaderSid) { $grants += "*${ReaderSid}:R" }
    if ($PSCmdlet.ShouldProcess($Path, 'restrict access to SYSTEM and Administrators' + $(if ($ReaderSid) { ' and the service account (read)' } else { '' }))) {
        [void](Invoke-CheckedCommand icacls.exe (@($Path, '/inheritance:r', '/grant:r') + $grants + @('/Q')))
        [void](Invoke-CheckedCommand icacls.exe @($Path, '/remove:g', "*$SidAuthenticatedUsers", "*$SidUsers", "*$SidEveryone", '/Q'))
    }
}

function Write-PinFile {
    # Creates the file empty, restricts it, and only then writes the PIN into it, so the PIN is
    # never in a file anyone else could read, not even for a moment.
    [CmdletBinding(SupportsShouldProcess)]
    param([Parameter(Mandatory)][string]$Path, [string]$ReaderSid)
    if (-not $PSCmdlet.ShouldProcess($Path, 'ask for the card PIN (twice, not shown) and write it: UTF-8 without BOM, no trailing newline')) {
        return
    }
    $bytes = Read-CardPin
    try {
        $folder = Split-Path -Parent $Path
        if (-not (Test-Path -LiteralPath $folder)) { New-Item -ItemType Directory -Path $folder -WhatIf:$false -Confirm:$false | Out-Null }
        if (-not (Test-Path -LiteralPath $Path)) { [System.IO.File]::WriteAllBytes($Path, [byte[]]@()) }
        Protect-File -Path $Path -ReaderSid $ReaderSid -WhatIf:$false -Confirm:$false
        [System.IO.File]::WriteAllBytes($Path, $bytes)
    } finally {
        [Array]::Clear($bytes, 0, $bytes.Length)
    }
    Write-Detail "PIN written to $Path (not shown; readable by SYSTEM and Administrators only)." 'Green'
}

# --------------------------------------------------------------------------------------------------
# Accounts and ACLs
# --------------------------------------------------------------------------------------------------

function Get-AccountKind {
    param([string]$Account)
    if ($Account -match '^(LocalSystem|NT AUTHORITY\\SYSTEM|\.\\LocalSystem)$') { return 'LocalSystem' }
    if ($Account -match '^NT AUTHORITY\\(LocalService|NetworkService|Local Service|Network Service)$') { return 'BuiltIn' }
    if ($Account -match '^NT SERVICE\\') { return 'Virtual' }
    if ($Account.EndsWith('$')) { return 'Managed' }
    return 'User'
}

function Resolve-AccountSid {
    param([string]$Account)
    if ((Get-AccountKind $Account) -eq 'LocalSystem') { return $SidSystem }
    # '.\name' (this computer) is what the service manager accepts; the SID lookup wants the name.
    $lookup = $Account
    if ($lookup.StartsWith('.\')) { $lookup = $env:COMPUTERNAME + $lookup.Substring(1) }
    try {
        $nt = New-Object System.Security.Principal.NTAccount($lookup)
        return $nt.Translate([System.Security.Principal.SecurityIdentifier]).Value
    } catch {
        throw "Windows does not know the account '$Account'."
    }
}

function Grant-ServiceLogonRight {
    # "Log on as a service" (SeServiceLogonRight) through secedit, the built-in way without extra
    # modules. Virtual (NT SERVICE\...) and built-in accounts do not need it.
    [CmdletBinding(SupportsShouldProcess)]
    param([Parameter(Mandatory)][string]$Sid, [string]$Account)
    $work = Join-Path ([System.IO.Path]::GetTempPath()) ('ceb179-secedit-' + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $work -WhatIf:$false -Confirm:$false | Out-Null
    try {
        $exported = Join-Path $work 'export.inf'
        [void](Invoke-CheckedCommand secedit.exe @('/export', '/cfg', $exported, '/areas', 'USER_RIGHTS', '/quiet'))
        $current = ''
        foreach ($line in (Get-Content -LiteralPath $exported -Encoding Unicode)) {
            if ($line -match '^\s*SeServiceLogonRight\s*=\s*(.*)$') { $current = $Matches[1].Trim() }
        }
        $holders = @($current.Split(',') | ForEach-Object { $_.Trim() } | Where-Object { $_ -ne '' })
        if ($holders -contains "*$Sid") {
            Write-Detail "$Account already has 'Log on as a service'."
            return
        }
        if (-not $PSCmdlet.ShouldProcess($Account, "grant 'Log on as a service'")) { return }
        $holders += "*$Sid"
        $template = Join-Path $work 'grant.inf'
        $lines = @('[Unicode]', 'Unicode=yes', '[Version]', 'signature="$CHICAGO$"', 'Revision=1', '[Privilege Rights]', ('SeServiceLogonRight = ' + ($holders -join ',')))
        Set-Content -LiteralPath $template -Value $lines -Encoding Unicode -WhatIf:$false -Confirm:$false
        [void](Invoke-CheckedCommand secedit.exe @('/configure', '/db', (Join-Path $work 'grant.sdb'), '/cfg', $template, '/areas', 'USER_RIGHTS', '/quiet'))
        Write-Detail "Granted 'Log on as a service' to $Account." 'Green'
    } finally {
        Remove-Item -LiteralPath $work -Recurse -Force -WhatIf:$false -Confirm:$false -ErrorAction SilentlyContinue
    }
}

function Protect-InstallDirectory {
    # C:\ grants Authenticated Users "Modify" on new folders; a folder whose code runs as
    # LocalSystem and which holds the broker credentials must not inherit that. Children inherit the
    # new ACL (icacls propagates it; on a large node_modules this takes a moment).
    [CmdletBinding(SupportsShouldProcess)]
    param([Parameter(Mandatory)][string]$Path)
    if ($PSCmdlet.ShouldProcess($Path, 'restrict to SYSTEM and Administrators (no inherited access for other users)')) {
        [void](Invoke-CheckedCommand icacls.exe @($Path, '/inheritance:r', '/grant:r', "*${SidSystem}:(OI)(CI)F", "*${SidAdministrators}:(OI)(CI)F", '/Q'))
        [void](Invoke-CheckedCommand icacls.exe @($Path, '/remove:g', "*$SidAuthenticatedUsers", "*$SidUsers", "*$SidEveryone", '/Q'))
    }
}

# --------------------------------------------------------------------------------------------------
# Service
# --------------------------------------------------------------------------------------------------

function Get-ServiceRecord {
    param([string]$Name)
    return Get-CimInstance -ClassName Win32_Service -Filter "Name='$Name'" -ErrorAction SilentlyContinue
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

function Get-SignerHealth {
    # GET http://127.0.0.1:<port>/health. Answers 200 (ready, starting) or 503 (other states), both
    # with the JSON body; $null if nothing answers. HttpWebRequest, because Invoke-RestMethod in
    # Windows PowerShell 5.1 throws away the body of a 503.
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
    try { $parsed = $body | ConvertFrom-Json } catch { return $null }
    return [pscustomobject]@{ StatusCode = $status; Health = $parsed }
}

function ConvertTo-UtcDate {
    # ISO text from the logs or /health (PowerShell 7's ConvertFrom-Json already makes it a date).
    param($Value)
    if ($null -eq $Value) { return $null }
    if ($Value -is [datetime]) { return $Value.ToUniversalTime() }
    $styles = [System.Globalization.DateTimeStyles]::AdjustToUniversal -bor [System.Globalization.DateTimeStyles]::AssumeUniversal
    $parsed = [datetime]::MinValue
    if ([datetime]::TryParse([string]$Value, [System.Globalization.CultureInfo]::InvariantCulture, $styles, [ref]$parsed)) { return $parsed }
    return $null
}

function Get-LastPinRefusal {
    # When did the card last refuse the signer's PIN, if that is the signer's latest word on the PIN?
    # From /health when the signer runs (state paused-for-pin), else from its log: the last
    # "POSSIBLE PIN FAILURE" line newer than the last "card self-test passed" / "signed and verified".
    param([int]$HealthPort, [string]$OutLog, $ServiceRecord)
    $fromLog = $null
    if (Test-Path -LiteralPath $OutLog) {
        $lastRefusal = $null
        $lastSuccess = $null
        foreach ($line in (Get-Content -LiteralPath $OutLog -Tail 5000 -Encoding UTF8)) {
            $time = $null
            if ($line -match '"time":"([^"]+)"') { $time = ConvertTo-UtcDate $Matches[1] }
            if ($null -eq $time) { continue }
            if ($line.Contains('POSSIBLE PIN FAILURE')) { $lastRefusal = $time }
            elseif ($line.Contains('card self-test passed') -or $line.Contains('signed and verified')) { $lastSuccess = $time }
        }
        if ($null -ne $lastRefusal -and ($null -eq $lastSuccess -or $lastRefusal -gt $lastSuccess)) { $fromLog = $lastRefusal }
    }
    if ($HealthPort -gt 0 -and $null -ne $ServiceRecord -and $ServiceRecord.State -eq 'Running') {
        $answer = Get-SignerHealth -Port $HealthPort
        if ($null -ne $answer) {
            if ((Get-JsonField $answer.Health 'state') -ne 'paused-for-pin') { return $null }
            if ($null -ne $fromLog) { return $fromLog }
            try { return (Get-Process -Id $ServiceRecord.ProcessId).StartTime.ToUniversalTime() } catch { return [datetime]::UtcNow }
        }
    }
    return $fromLog
}

function New-WinSWConfigXml {
    param(
        [string]$Name, [string]$Node, [string]$MainJs, [string]$WorkingDirectory, [string]$LogDirectory,
        [System.Collections.Specialized.OrderedDictionary]$Environment, [string]$SourceFile
    )
    $xmlSettings = New-Object System.Xml.XmlWriterSettings
    $xmlSettings.Indent = $true
    $xmlSettings.IndentChars = '  '
    $xmlSettings.Encoding = New-Object System.Text.UTF8Encoding($false)
    $buffer = New-Object System.IO.MemoryStream
    $w = [System.Xml.XmlWriter]::Create($buffer, $xmlSettings)
    $w.WriteStartDocument()
    $w.WriteComment(" Generated by deploy\windows\install-signer.ps1 from $SourceFile. Do not edit: edit that file and re-run the installer. ")
    $w.WriteComment(' Holds the settings of signer.env (broker URL included), never the PIN: only the path of the PIN file. Readable by SYSTEM and Administrators only. ')
    $w.WriteStartElement('service')
    $w.WriteElementString('id', $Name)
    $w.WriteElementString('name', "ceb179 signer ($Name)")
    $w.WriteElementString('description', 'ceb179: signs China Customs 179 payment data with the operator card (操作员卡) through the China E-Port client control; dials out to RabbitMQ only.')
    $w.WriteElementString('executable', $Node)
    $w.WriteElementString('argument', $MainJs)
    $w.WriteElementString('workingdirectory', $WorkingDirectory)
    $w.WriteElementString('startmode', 'Automatic')
    # Delayed: the network and the E-Port control come up first. If the control is still not there,
    # the signer waits for it by itself (state reader-fault, PIN-free retries).
    $w.WriteElementString('delayedAutoStart', 'true')
    $w.WriteComment(' Restarts follow real crashes only. The signer never exits on a PIN refusal: it stays up, paused, with no further PIN attempt, so this cannot spend PIN attempts. ')
    foreach ($delay in @('10 sec', '30 sec', '60 sec')) {
        $w.WriteStartElement('onfailure')
        $w.WriteAttributeString('action', 'restart')
        $w.WriteAttributeString('delay', $delay)
        $w.WriteEndElement()
    }
    $w.WriteElementString('resetfailure', '1 hour')
    # WinSW sends Ctrl+C (SIGINT) first; the signer drains in-flight jobs and exits within 30 s.
    $w.WriteElementString('stoptimeout', '35 sec')
    $w.WriteElementString('logpath', $LogDirectory)
    # Node writes UTF-8 to a pipe whatever the console code page (pino: one JSON object a line), and
    # WinSW keeps it UTF-8 in the files (2.x copies the bytes; later versions set the UTF-8 code page
    # for the child and decode with it). Read them with Get-Content -Encoding UTF8.
    $w.WriteStartElement('log')
    $w.WriteAttributeString('mode', 'roll-by-size')
    $w.WriteElementString('sizeThreshold', '10240')
    $w.WriteElementString('keepFiles', '8')
    $w.WriteEndElement()
    foreach ($key in @($Environment.Keys)) {
        $w.WriteStartElement('env')
        $w.WriteAttributeString('name', [string]$key)
        $w.WriteAttributeString('value', [string]$Environment[$key])
        $w.WriteEndElement()
    }
    $w.WriteEndElement()
    $w.WriteEndDocument()
    $w.Flush()
    $w.Dispose()
    return [System.Text.Encoding]::UTF8.GetString($buffer.ToArray())
}

function Set-ServiceLogonAccount {
    [CmdletBinding(SupportsShouldProcess)]
    param([Parameter(Mandatory)][string]$Name, [Parameter(Mandatory)][string]$Account)
    $kind = Get-AccountKind $Account
    if (-not $PSCmdlet.ShouldProcess($Name, "run as $Account")) { return }
    switch ($kind) {
        'LocalSystem' {
            Invoke-ServiceControl "config `"$Name`" obj= LocalSystem password= `"`""
        }
        'Virtual' {
            # A virtual account is the service's own SID; it must be enabled first.
            Invoke-ServiceControl "sidtype `"$Name`" unrestricted"
            Invoke-ServiceControl "config `"$Name`" obj= `"$Account`" password= `"`""
        }
        'User' {
            # Through CIM, so the password never appears on a command line.
            $secure = Read-Host -AsSecureString -Prompt "    Password of $Account (not shown)"
            $plain = ConvertTo-PlainText $secure
            try {
                $result = Invoke-CimMethod -Query "SELECT * FROM Win32_Service WHERE Name='$Name'" -MethodName Change -Arguments @{ StartName = $Account; StartPassword = $plain }
            } finally {
                $plain = $null
            }
            $code = @($result)[0].ReturnValue
            if ($code -ne 0) { throw "setting the service account failed (Win32_Service.Change returned $code; 22 = unknown account or wrong password)" }
        }
        default {
            # Built-in service accounts and group managed service accounts have no password.
            Invoke-ServiceControl "config `"$Name`" obj= `"$Account`" password= `"`""
        }
    }
    Write-Detail "Service account: $Account" 'Green'
}

function Invoke-SignerDoctor {
    # Runs the doctor with exactly the service's settings (from signer.env), in this process's
    # environment for the duration only. Without --check-pin: the doctor spends no PIN attempt.
    param([string]$Node, [string]$Directory, [System.Collections.Specialized.OrderedDictionary]$Environment)
    $names = @($Environment.Keys | ForEach-Object { [string]$_ })
    $names += @(Get-ChildItem Env: | Where-Object { $_.Name -like 'CEB179_*' } | ForEach-Object { $_.Name })
    $names = @($names | Select-Object -Unique)
    $saved = @{}
    foreach ($name in $names) { $saved[$name] = [Environment]::GetEnvironmentVariable($name, 'Process') }
    $previousEncoding = $null
    Push-Location -LiteralPath $Directory
    try {
        foreach ($name in $names) { [Environment]::SetEnvironmentVariable($name, $null, 'Process') }
        foreach ($key in @($Environment.Keys)) { [Environment]::SetEnvironmentVariable([string]$key, [string]$Environment[$key], 'Process') }
        $previousEncoding = Set-ConsoleUtf8
        $ErrorActionPreference = 'Continue'
        & $Node (Join-Path $Directory 'services\signer\dist\doctor.js') 2>&1 | ForEach-Object { Write-Host "    $_" }
        return $LASTEXITCODE
    } finally {
        Restore-ConsoleEncoding $previousEncoding
        foreach ($name in $names) { [Environment]::SetEnvironmentVariable($name, $saved[$name], 'Process') }
        Pop-Location
    }
}

# ==================================================================================================
# 1. Checks. Nothing is changed until all of them pass.
# ==================================================================================================

Write-Step 'Checking prerequisites'

if (-not (Test-Administrator)) {
    Exit-Installer 'run this script from a PowerShell started with "Run as administrator" (以管理员身份运行).'
}
if (-not [Environment]::Is64BitOperatingSystem) {
    Exit-Installer 'this is 32-bit Windows; the signer needs 64-bit Windows 10/11 or Windows Server 2016+.'
}
if ([Environment]::OSVersion.Version.Major -lt 10) {
    Write-Warning "Windows $([Environment]::OSVersion.Version) is older than Windows 10 / Server 2016, which is what this was written for."
}

$InstallDir = (Get-AbsolutePath $InstallDir).TrimEnd('\')
if ($InstallDir.Length -le 3 -or $InstallDir.StartsWith($env:SystemRoot, [System.StringComparison]::OrdinalIgnoreCase)) {
    Exit-Installer "-InstallDir ${InstallDir}: use a folder of its own, such as C:\ceb179 (its access rights are restricted)."
}
$MainJs = Join-Path $InstallDir 'services\signer\dist\main.js'
$DoctorJs = Join-Path $InstallDir 'services\signer\dist\doctor.js'
if (-not (Test-Path -LiteralPath $MainJs) -or -not (Test-Path -LiteralPath $DoctorJs) -or -not (Test-Path -LiteralPath (Join-Path $InstallDir 'node_modules'))) {
    Exit-Installer ("$InstallDir does not hold a built ceb179 (services\signer\dist\main.js, doctor.js and node_modules). " +
        'Copy the release there; a release is the repository after "npm ci && npm run build && npm prune --omit=dev" on a build machine.')
}
Write-Detail "Install folder: $InstallDir"

if (-not $NodeExe) {
    $found = Get-Command -Name node.exe -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($null -eq $found) { Exit-Installer 'node.exe is not on PATH. Install Node.js 22 LTS (x64 .msi) or pass -NodeExe.' }
    $NodeExe = $found.Path
}
$NodeExe = Get-AbsolutePath $NodeExe
if (-not (Test-Path -LiteralPath $NodeExe)) { Exit-Installer "-NodeExe $NodeExe does not exist." }
$nodeVersionText = ((Invoke-CheckedCommand $NodeExe @('--version')) -join '').Trim()
$nodeVersion = $null
if (-not [version]::TryParse($nodeVersionText.TrimStart('v'), [ref]$nodeVersion)) { Exit-Installer "cannot read the version of $NodeExe ('$nodeVersionText')." }
if ($nodeVersion -lt $MinimumNode) {
    Exit-Installer "$NodeExe is Node.js $nodeVersionText; ceb179 needs Node.js 20 LTS ($MinimumNode or later). Install the Node.js 20 LTS x64 .msi."
}
if ($nodeVersion.Major -ge $NodeMajorTestedBelow) {
    Write-Warning "Node.js $nodeVersionText is newer than ceb179 was tested with (package.json engines: >=20.10 <23)."
}
$nodeArch = ((Invoke-CheckedCommand $NodeExe @('-p', 'process.arch')) -join '').Trim()
Write-Detail "Node.js: $NodeExe ($nodeVersionText, $nodeArch)"
if ($NodeExe.StartsWith($env:USERPROFILE, [System.StringComparison]::OrdinalIgnoreCase) -or $NodeExe -match '\\AppData\\') {
    Write-Warning "node.exe is inside a user profile ($NodeExe). A service should use a machine-wide Node.js (the .msi installs it in C:\Program Files\nodejs)."
}

# The release must resolve its own packages (a zip that lost node_modules\@ceb179 would not).
Push-Location -LiteralPath (Join-Path $InstallDir 'services\signer')
try {
    $resolve = Invoke-NativeCommand $NodeExe @('-e', "require('@ceb179/config');require('@ceb179/mq');require('@ceb179/protocol');require('ws')")
} finally {
    Pop-Location
}
if ($resolve.ExitCode -ne 0) {
    Exit-Installer "the release in $InstallDir is incomplete (Node cannot load the signer's packages): $($resolve.Output | Select-Object -First 3)"
}

if (-not $ConfigFile) { $ConfigFile = Join-Path $InstallDir 'signer.env' }
$ConfigFile = Get-AbsolutePath $ConfigFile
if (-not (Test-Path -LiteralPath $ConfigFile)) {
    $template = Join-Path $PSScriptRoot 'signer.env.template'
    if ((Test-Path -LiteralPath $template) -and $PSCmdlet.ShouldProcess($ConfigFile, "create from $template")) {
        Copy-Item -LiteralPath $template -Destination $ConfigFile
        Protect-File -Path $ConfigFile
        Exit-Installer "created $ConfigFile from the template. Fill it in (broker URL, ebpCodes, signer id), then run this script again."
    }
    Exit-Installer "the settings file $ConfigFile does not exist; copy deploy\windows\signer.env.template there and fill it in."
}
$Settings = Read-SignerEnvFile -Path $ConfigFile
$problems = Test-SignerSettings -Settings $Settings -ConfigPath $ConfigFile
if ($problems.Count -gt 0) {
    foreach ($problem in $problems) { Write-Detail "- $problem" 'Red' }
    Exit-Installer "fix $ConfigFile as listed above, then run this script again."
}
foreach ($scope in @('Machine', 'User')) {
    if ([Environment]::GetEnvironmentVariable('CEB179_CARD_PIN', $scope)) {
        Exit-Installer "a $scope environment variable CEB179_CARD_PIN exists. It would override the PIN file; delete it (System Properties > Environment Variables)."
    }
}
foreach ($key in @($Settings.Keys)) {
    if (([string]$Settings[$key]).Contains('%')) {
        Write-Warning "$key contains '%'. WinSW expands %NAME% in its XML; if the value changes, move it to a file and set ${key}_FILE instead."
    }
}
if ($Settings.Contains('CEB179_AMQP_URL') -and ([string]$Settings['CEB179_AMQP_URL']).StartsWith('amqp://')) {
    Write-Warning 'CEB179_AMQP_URL uses amqp:// (no TLS). Across any network you do not control, use amqps:// (port 5671).'
}
Write-Detail "Settings: $ConfigFile ($(@($Settings.Keys).Count) set: $(@($Settings.Keys) -join ', '))"

# The PIN file: named in signer.env, or the default place.
if (-not $Settings.Contains('CEB179_CARD_PIN_FILE')) {
    $Settings['CEB179_CARD_PIN_FILE'] = Join-Path $InstallDir 'secrets\card-pin.txt'
    Write-Warning "CEB179_CARD_PIN_FILE is not set in $ConfigFile; using $($Settings['CEB179_CARD_PIN_FILE'])."
}
$PinFile = Resolve-FullPath ([string]$Settings['CEB179_CARD_PIN_FILE']) $InstallDir
$Settings['CEB179_CARD_PIN_FILE'] = $PinFile
$pinFileExists = Test-Path -LiteralPath $PinFile
if ($pinFileExists -and -not $UpdatePin) {
    $pinProblem = Get-PinFileProblem -Path $PinFile
    if ($pinProblem) {
        Exit-Installer "the PIN file $PinFile is not usable: $pinProblem. Nothing was sent to the card. Run this script again with -UpdatePin to enter the PIN (it rewrites the file correctly)."
    }
}
# Any other <NAME>_FILE setting must exist and be readable as UTF-8 without BOM, like the PIN file.
foreach ($key in @($Settings.Keys)) {
    if ($key -eq 'CEB179_CARD_PIN_FILE' -or -not $key.EndsWith('_FILE')) { continue }
    $path = Resolve-FullPath ([string]$Settings[$key]) $InstallDir
    $Settings[$key] = $path
    if (-not (Test-Path -LiteralPath $path)) { Exit-Installer "$key points at $path, which does not exist." }
    $head = [System.IO.File]::ReadAllBytes($path)
    $hasBom = $head.Length -ge 3 -and $head[0] -eq 0xEF -and $head[1] -eq 0xBB -and $head[2] -eq 0xBF
    [Array]::Clear($head, 0, $head.Length)
    if ($hasBom) { Exit-Installer "$path ($key) starts with a BOM; save it as UTF-8 without BOM." }
}

$HealthPort = $DefaultHealthPort
if ($Settings.Contains('CEB179_SIGNER_HEALTH_PORT')) { $HealthPort = [int]$Settings['CEB179_SIGNER_HEALTH_PORT'] }

$WrapperExe = Join-Path $InstallDir "$ServiceName.exe"
$WrapperXml = Join-Path $InstallDir "$ServiceName.xml"
$LogDir = Join-Path $InstallDir 'logs'
$OutLog = Join-Path $LogDir "$ServiceName.out.log"
$SecretsDir = Join-Path $InstallDir 'secrets'

if ($WinSWExe) {
    $WinSWExe = Get-AbsolutePath $WinSWExe
    if (-not (Test-Path -LiteralPath $WinSWExe)) { Exit-Installer "-WinSWExe $WinSWExe does not exist." }
    $winswInfo = Get-Item -LiteralPath $WinSWExe
    $winswHash = (Get-FileHash -LiteralPath $WinSWExe -Algorithm SHA256).Hash
    Write-Detail "WinSW: $WinSWExe (version $($winswInfo.VersionInfo.FileVersion), SHA-256 $winswHash)"
} elseif (Test-Path -LiteralPath $WrapperExe) {
    Write-Detail "WinSW: keeping $WrapperExe"
} else {
    Exit-Installer ('-WinSWExe is required for the first installation: download WinSW-x64.exe from https://github.com/winsw/winsw/releases ' +
        '(v2.12.0 or another 2.x release) on a machine with internet access and pass its path.')
}

$Existing = Get-ServiceRecord -Name $ServiceName
if ($null -ne $Existing) {
    $registered = Get-ServiceExecutable $Existing
    if (-not [string]::Equals([System.IO.Path]::GetFullPath($registered), $WrapperExe, [System.StringComparison]::OrdinalIgnoreCase)) {
        Exit-Installer "a service named $ServiceName already exists but runs $registered, not $WrapperExe. Choose another -ServiceName, or remove that service first."
    }
    Write-Detail "Service ${ServiceName}: installed, $($Existing.State), runs as $($Existing.StartName)"
} else {
    Write-Detail "Service ${ServiceName}: not installed yet"
}

# Which account the service shall run as: the one asked for, else the current one, else LocalSystem.
$DesiredAccount = 'LocalSystem'
if ($PSBoundParameters.ContainsKey('ServiceAccount') -and $ServiceAccount) {
    $DesiredAccount = $ServiceAccount
} elseif ($null -ne $Existing -and $Existing.StartName) {
    $DesiredAccount = [string]$Existing.StartName
}
$AccountKind = Get-AccountKind $DesiredAccount
$AccountSid = $null
# A virtual account (NT SERVICE\<name>) has a SID only once its service exists.
if ($AccountKind -ne 'LocalSystem' -and ($AccountKind -ne 'Virtual' -or $null -ne $Existing)) { $AccountSid = Resolve-AccountSid $DesiredAccount }

# --------------------------------------------------------------------------------------------------
# 2. PIN safety gate: never restart a signer the card just refused, with the same PIN file.
# --------------------------------------------------------------------------------------------------

$refusedAt = Get-LastPinRefusal -HealthPort $HealthPort -OutLog $OutLog -ServiceRecord $Existing
if ($null -ne $refusedAt) {
    $pinChanged = $pinFileExists -and ((Get-Item -LiteralPath $PinFile).LastWriteTimeUtc -gt $refusedAt)
    if ($UpdatePin) {
        Write-Warning "The card refused the signer's PIN at $($refusedAt.ToLocalTime()). The PIN you enter now will be tried ONCE when the service restarts."
    } elseif ($pinChanged) {
        Write-Warning "The card refused the signer's PIN at $($refusedAt.ToLocalTime()); the PIN file changed since. The restart tries the new PIN ONCE."
    } else {
        Write-Host ''
        Write-Host "The card refused the signer's PIN at $($refusedAt.ToLocalTime()) (signer paused, state paused-for-pin)," -ForegroundColor Red
        Write-Host 'and the PIN file has not changed since. Restarting now would spend another PIN attempt with the' -ForegroundColor Red
        Write-Host 'same PIN; a few wrong attempts lock the card (unlocking needs a trip to the card issuer).' -ForegroundColor Red
        Write-Host '  - Find the right PIN of this operator card first (do not guess).' -ForegroundColor Red
        Write-Host '  - Then run this script again with -UpdatePin to enter it.' -ForegroundColor Red
        Write-Host '  - If the reason in check-signer.ps1 shows it was not the PIN, restart by hand, once: Restart-Service ' -NoNewline -ForegroundColor Red
        Write-Host $ServiceName -ForegroundColor Red
        Exit-Installer 'not restarting a signer paused for its PIN with an unchanged PIN file.' 3
    }
}

# ==================================================================================================
# 3. Folders and access rights
# ==================================================================================================

Write-Step 'Folders and access rights'
Protect-InstallDirectory -Path $InstallDir
foreach ($dir in @($LogDir, $SecretsDir)) {
    if (-not (Test-Path -LiteralPath $dir) -and $PSCmdlet.ShouldProcess($dir, 'create folder')) {
        New-Item -ItemType Directory -Path $dir | Out-Null
    }
}
# secrets\ inherits nothing: SYSTEM and Administrators only, whatever happens to the parent later.
if (Test-Path -LiteralPath $SecretsDir) {
    if ($PSCmdlet.ShouldProcess($SecretsDir, 'restrict to SYSTEM and Administrators')) {
        [void](Invoke-CheckedCommand icacls.exe @($SecretsDir, '/inheritance:r', '/grant:r', "*${SidSystem}:(OI)(CI)F", "*${SidAdministrators}:(OI)(CI)F", '/Q'))
    }
}
if ($PSCmdlet.ShouldProcess($ConfigFile, 'restrict to SYSTEM and Administrators (it holds the broker credentials)')) {
    Protect-File -Path $ConfigFile -WhatIf:$false -Confirm:$false
}

# ==================================================================================================
# 4. The PIN file
# ==================================================================================================

Write-Step 'Card PIN file'
if ($UpdatePin -or -not $pinFileExists) {
    # The account SID is known now for every kind except a virtual account, whose SID exists only
    # once the service does; it is granted read further down.
    Write-PinFile -Path $PinFile -ReaderSid $AccountSid
} else {
    Protect-File -Path $PinFile -ReaderSid $AccountSid
    Write-Detail "$PinFile exists and looks well-formed (content not shown); kept. Use -UpdatePin to replace it." 'Green'
}

# ==================================================================================================
# 5. Stop the running signer (the wrapper exe cannot be replaced while it runs)
# ==================================================================================================

Write-Step 'Service wrapper and definition'
$Existing = Get-ServiceRecord -Name $ServiceName
if ($null -ne $Existing -and $Existing.State -ne 'Stopped') {
    if ($PSCmdlet.ShouldProcess($ServiceName, 'stop the service (it finishes in-flight jobs first, up to 35 s)')) {
        Stop-Service -Name $ServiceName -WhatIf:$false -Confirm:$false
        Write-Detail "Stopped $ServiceName."
    }
}

if ($WinSWExe) {
    $needsCopy = $true
    if (Test-Path -LiteralPath $WrapperExe) {
        $needsCopy = (Get-FileHash -LiteralPath $WrapperExe -Algorithm SHA256).Hash -ne $winswHash
    }
    if ($needsCopy -and $PSCmdlet.ShouldProcess($WrapperExe, "copy $WinSWExe")) {
        Copy-Item -LiteralPath $WinSWExe -Destination $WrapperExe -Force
        Unblock-File -LiteralPath $WrapperExe
        Write-Detail "Copied WinSW to $WrapperExe."
    } elseif (-not $needsCopy) {
        Write-Detail "$WrapperExe is already this WinSW."
    }
}

$xml = New-WinSWConfigXml -Name $ServiceName -Node $NodeExe -MainJs $MainJs -WorkingDirectory $InstallDir `
    -LogDirectory $LogDir -Environment $Settings -SourceFile $ConfigFile
$currentXml = $null
if (Test-Path -LiteralPath $WrapperXml) { $currentXml = [System.IO.File]::ReadAllText($WrapperXml) }
if ($currentXml -ne $xml) {
    if ($PSCmdlet.ShouldProcess($WrapperXml, 'write the service definition (node.exe services\signer\dist\main.js, env from the settings file, restart on failure, delayed automatic start, logs)')) {
        [System.IO.File]::WriteAllText($WrapperXml, $xml, (New-Object System.Text.UTF8Encoding($false)))
        Protect-File -Path $WrapperXml -ReaderSid $AccountSid -WhatIf:$false -Confirm:$false
        Write-Detail "Wrote $WrapperXml."
    }
} else {
    Write-Detail "$WrapperXml is up to date."
}

# ==================================================================================================
# 6. Install or update the Windows service
# ==================================================================================================

Write-Step 'Windows service'
if ($null -eq $Existing) {
    if ($PSCmdlet.ShouldProcess($ServiceName, "install the service ($WrapperExe install)")) {
        [void](Invoke-CheckedCommand $WrapperExe @('install'))
        Write-Detail "Installed $ServiceName." 'Green'
    }
}
# WinSW writes these only at install; they are set here on every run so that an update applies them
# too: automatic delayed start, restart after 10 s / 30 s / 60 s, failure count reset after 1 hour,
# and failure actions also when the process stops with an error code rather than crashing.
if ($PSCmdlet.ShouldProcess($ServiceName, 'set delayed automatic start and restart-on-failure (10 s, 30 s, 60 s; reset after 1 hour)')) {
    Invoke-ServiceControl "config `"$ServiceName`" start= delayed-auto"
    Invoke-ServiceControl "failure `"$ServiceName`" reset= 3600 actions= restart/10000/restart/30000/restart/60000"
    Invoke-ServiceControl "failureflag `"$ServiceName`" 1"
}

$record = Get-ServiceRecord -Name $ServiceName
$currentAccount = 'LocalSystem'
if ($null -ne $record -and $record.StartName) { $currentAccount = [string]$record.StartName }
if (-not [string]::Equals($currentAccount, $DesiredAccount, [System.StringComparison]::OrdinalIgnoreCase) -and
    -not ((Get-AccountKind $currentAccount) -eq 'LocalSystem' -and $AccountKind -eq 'LocalSystem')) {
    Set-ServiceLogonAccount -Name $ServiceName -Account $DesiredAccount
} else {
    Write-Detail "Service account: $currentAccount"
}

# Rights of a dedicated account: read the code and the PIN file, write the logs.
if ($AccountKind -ne 'LocalSystem') {
    if ($null -eq $AccountSid -and $null -ne (Get-ServiceRecord -Name $ServiceName)) { $AccountSid = Resolve-AccountSid $DesiredAccount }
    if ($null -ne $AccountSid -and $PSCmdlet.ShouldProcess($DesiredAccount, 'grant read on the install folder and secrets, write on logs')) {
        [void](Invoke-CheckedCommand icacls.exe @($InstallDir, '/grant', "*${AccountSid}:(OI)(CI)RX", '/Q'))
        [void](Invoke-CheckedCommand icacls.exe @($LogDir, '/grant', "*${AccountSid}:(OI)(CI)M", '/Q'))
        [void](Invoke-CheckedCommand icacls.exe @($SecretsDir, '/grant', "*${AccountSid}:(OI)(CI)RX", '/Q'))
        # WinSW runs as the account and reads its XML, which inherits nothing (Protect-File).
        Protect-File -Path $WrapperXml -ReaderSid $AccountSid -WhatIf:$false -Confirm:$false
        Protect-File -Path $PinFile -ReaderSid $AccountSid -WhatIf:$false -Confirm:$false
        foreach ($key in @($Settings.Keys)) {
            if ($key.EndsWith('_FILE') -and $key -ne 'CEB179_CARD_PIN_FILE') {
                [void](Invoke-CheckedCommand icacls.exe @([string]$Settings[$key], '/grant', "*${AccountSid}:R", '/Q'))
            }
        }
        if ($AccountKind -eq 'User' -or $AccountKind -eq 'Managed') { Grant-ServiceLogonRight -Sid $AccountSid -Account $DesiredAccount }
        Write-Detail "Granted $DesiredAccount what the signer needs." 'Green'
    }
}

# ==================================================================================================
# 7. Start, and wait for the self-test's verdict
# ==================================================================================================

Write-Step 'Starting the signer'
if (-not $PSCmdlet.ShouldProcess($ServiceName, 'start the service (its self-test tries the PIN once)')) {
    Write-Detail 'What if: would start the service, wait for its health endpoint and run the doctor (without --check-pin).'
    exit 0
}
try {
    Start-Service -Name $ServiceName -WhatIf:$false -Confirm:$false
    Write-Detail "Started $ServiceName. Waiting for its self-test (up to $HealthWaitSeconds s)..."
} catch {
    Write-Detail "Windows could not start ${ServiceName}: $($_.Exception.Message)" 'Red'
}

$state = $null
$health = $null
if ($HealthPort -gt 0) {
    $deadline = (Get-Date).AddSeconds($HealthWaitSeconds)
    while ((Get-Date) -lt $deadline) {
        Start-Sleep -Seconds 2
        $service = Get-Service -Name $ServiceName
        if ($service.Status -ne 'Running') { break }
        $answer = Get-SignerHealth -Port $HealthPort
        if ($null -eq $answer) { continue }
        $health = $answer.Health
        $state = Get-JsonField $health 'state'
        if ($state -ne 'starting') { break }
    }
} else {
    Write-Detail 'CEB179_SIGNER_HEALTH_PORT is 0 (any free port): not polling health; see the log.'
}

$service = Get-Service -Name $ServiceName
if ($service.Status -ne 'Running') {
    # A bad setting stops the signer at once with a message naming the variable (stderr, err.log);
    # WinSW's own problems (node.exe not found, ...) are in the wrapper log.
    Write-Detail "The service is $($service.Status). Last lines of its logs:" 'Red'
    foreach ($suffix in @('err.log', 'wrapper.log')) {
        $log = Join-Path $LogDir "$ServiceName.$suffix"
        if (Test-Path -LiteralPath $log) {
            Write-Detail "--- $log"
            Get-Content -LiteralPath $log -Tail 10 -Encoding UTF8 | ForEach-Object { Write-Detail $_ }
        }
    }
} elseif ($null -eq $state) {
    Write-Detail "No answer from http://127.0.0.1:$HealthPort/health yet; check again with check-signer.ps1." 'Yellow'
} else {
    $reason = Get-JsonField $health 'reason'
    $color = 'Yellow'
    if ($state -eq 'ready') { $color = 'Green' }
    if ($state -eq 'paused-for-pin' -or $state -eq 'expired') { $color = 'Red' }
    Write-Detail "Signer state: $state$(if ($reason) { " ($reason)" })" $color
    $certNo = Get-JsonField $health 'certNo'
    if ($certNo) {
        Write-Detail "Card: certNo $certNo, $(Get-JsonField $health 'algorithm'), valid until $(Get-JsonField $health 'notAfter') ($(Get-JsonField $health 'daysLeft') days left)"
    }
    if ($state -eq 'paused-for-pin') {
        Write-Detail 'The card refused the PIN. Do NOT restart again until the PIN is right: run this script with -UpdatePin.' 'Red'
    }
}

# ==================================================================================================
# 8. The doctor
# ==================================================================================================

$doctorCode = 0
if (-not $SkipDoctor) {
    # After the self-test, not before: the signer has declared its queues by then (the doctor checks
    # them), and the doctor's calls to the control do not overlap the self-test's PIN-bearing one.
    Write-Step 'Doctor (node services\signer\dist\doctor.js, without --check-pin: no PIN attempt)'
    $doctorCode = Invoke-SignerDoctor -Node $NodeExe -Directory $InstallDir -Environment $Settings
}

# ==================================================================================================
# 9. Summary
# ==================================================================================================

Write-Step 'Done'
Write-Detail "Service:   $ServiceName ($((Get-Service -Name $ServiceName).Status)), runs $NodeExe $MainJs"
Write-Detail "Settings:  $ConfigFile  ->  $WrapperXml (re-run this script after editing the settings)"
Write-Detail "PIN file:  $PinFile"
Write-Detail "Logs:      $LogDir\$ServiceName.out.log (UTF-8 JSON lines)"
Write-Detail "Health:    http://127.0.0.1:$HealthPort/health    Metrics: http://127.0.0.1:$HealthPort/metrics"
Write-Detail "Status:    $(Join-Path $PSScriptRoot 'check-signer.ps1') -InstallDir $InstallDir -ServiceName $ServiceName"
$running = (Get-Service -Name $ServiceName).Status -eq 'Running'
if ($running -and $doctorCode -eq 0 -and ($state -eq 'ready' -or $HealthPort -eq 0)) {
    Write-Detail 'The signer is running and every doctor check passed.' 'Green'
    exit 0
}
Write-Detail 'The service is installed, but not everything is right yet: see the state and the doctor output above.' 'Yellow'
exit 1
