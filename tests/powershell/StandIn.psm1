# Helpers of the Pester suites: stand-ins started as tds-standin processes on loopback ports, an
# independent client (tests/powershell/query.py, python-tds), the stand-in's state file and the
# kernel's table of established TCP connections.

$script:Password = 'Str0ng!Passw0rd'

function Get-TestCredential {
    param([string]$UserName = 'sa', [string]$Password = $script:Password)
    New-Object System.Management.Automation.PSCredential -ArgumentList @(
        $UserName, (ConvertTo-SecureString $Password -AsPlainText -Force))
}

function Start-StandIn {
    # Starts tds-standin (TLS on, sa as sysadmin) and waits for its "listening on" line.
    param(
        [Parameter(Mandatory)][string]$Name,
        [string[]]$Login = @("sa:$($script:Password):sysadmin"),
        [string[]]$Arguments = @()
    )
    $folder = Join-Path $env:LSV_TEST_WORK ("standin-{0}-{1}" -f ($Name -replace '\W', '_'), [guid]::NewGuid().ToString('n').Substring(0, 8))
    New-Item -ItemType Directory -Path $folder | Out-Null
    $all = @('--listen', '127.0.0.1:0', '--server-name', $Name, '--encrypt', 'on',
        '--cert-out', (Join-Path $folder 'cert.pem'), '--state', (Join-Path $folder 'state.json'))
    foreach ($entry in $Login) { $all += @('--login', $entry) }
    $all += $Arguments
    $start = New-Object System.Diagnostics.ProcessStartInfo -ArgumentList $env:LSV_TEST_STANDIN
    foreach ($argument in $all) { $start.ArgumentList.Add($argument) }
    $start.UseShellExecute = $false
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $process = [System.Diagnostics.Process]::Start($start)
    # The stand-in prints one line and little else; stderr is drained in the background so a
    # chatty run can never block it.
    $null = $process.StandardError.ReadToEndAsync()
    $line = $process.StandardOutput.ReadLine()
    if ($line -notmatch '^listening on 127\.0\.0\.1:(\d+)$') {
        $process.Kill()
        throw "tds-standin $Name did not start: $line"
    }
    $null = $process.StandardOutput.ReadToEndAsync()
    $port = [int]$Matches[1]
    [pscustomobject]@{
        Name     = $Name
        Process  = $process
        Port     = $port
        Instance = "tcp:127.0.0.1,$port"
        Endpoint = "127.0.0.1:$port"
        Cert     = Join-Path $folder 'cert.pem'
        State    = Join-Path $folder 'state.json'
        Folder   = $folder
    }
}

function Stop-StandIn {
    param([Parameter(ValueFromPipeline)]$StandIn)
    process {
        if ($null -ne $StandIn -and -not $StandIn.Process.HasExited) {
            $StandIn.Process.Kill()
            $StandIn.Process.WaitForExit()
        }
    }
}

function Get-StandInState {
    # The stand-in's own record of sys.servers and sys.linked_logins (rewritten after every change).
    param([Parameter(Mandatory)]$StandIn)
    Get-Content -Raw -LiteralPath $StandIn.State | ConvertFrom-Json
}

function Get-StandInStateText {
    param([Parameter(Mandatory)]$StandIn)
    Get-Content -Raw -LiteralPath $StandIn.State
}

function Invoke-StandInQuery {
    # Runs one batch through python-tds: an independent client, not the module.
    param([Parameter(Mandatory)]$StandIn, [Parameter(Mandatory)][string]$Sql, [string]$UserName = 'sa')
    $env:LSV_QUERY_PASSWORD = $script:Password
    try {
        $json = & $env:LSV_TEST_PYTHON (Join-Path $PSScriptRoot 'query.py') $StandIn.Port $UserName $StandIn.Cert $Sql
        if ($LASTEXITCODE -ne 0) { throw "query.py failed ($LASTEXITCODE): $json" }
    }
    finally {
        Remove-Item Env:\LSV_QUERY_PASSWORD
    }
    $json | ConvertFrom-Json
}

function Get-StandInConnectionCount {
    # Every connection the stand-in accepted so far (sp_standin_stats keeps closed ones),
    # not counting the one this query opens.
    param([Parameter(Mandatory)]$StandIn)
    @((Invoke-StandInQuery -StandIn $StandIn -Sql 'EXEC sp_standin_stats').rows).Count - 1
}

function Get-EstablishedConnectionCount {
    # Server-side TCP connections of the stand-in's port in state ESTABLISHED (/proc/net/tcp).
    param([Parameter(Mandatory)]$StandIn)
    $portHex = ':{0:X4}' -f $StandIn.Port
    $count = 0
    foreach ($table in '/proc/net/tcp', '/proc/net/tcp6') {
        if (-not (Test-Path $table)) { continue }
        foreach ($line in Get-Content $table | Select-Object -Skip 1) {
            $fields = $line.Trim() -split '\s+'
            if ($fields[1].EndsWith($portHex) -and $fields[3] -eq '01') { $count++ }
        }
    }
    $count
}

function Wait-Condition {
    # Polls until the condition holds (at most 20 s); returns whether it did. A bound, not a timing.
    param([Parameter(Mandatory)][scriptblock]$Condition)
    $deadline = [DateTime]::UtcNow.AddSeconds(20)
    while ([DateTime]::UtcNow -lt $deadline) {
        if (& $Condition) { return $true }
        Start-Sleep -Milliseconds 50
    }
    [bool](& $Condition)
}

Export-ModuleMember -Function *
