# Every PowerShell example of README.md and powershell/README.md, run as written in a fresh
# pwsh process (the BizTalk job step has BizTalk.Tests.ps1). What is replaced: the instance names
# (MGMT01, SQL01, 'SQL02') by the stand-ins' addresses and (Get-Credential) by a test login; a
# preamble sets $PSDefaultParameterValues for the login and for trusting the stand-ins'
# self-signed certificates, and defines $mgmt and $cred for the examples that use them.
BeforeDiscovery {
    $blocks = foreach ($readme in 'README.md', 'powershell/README.md') {
        $text = Get-Content -Raw -LiteralPath (Join-Path $env:LSV_TEST_ROOT $readme)
        $index = 0
        foreach ($match in [regex]::Matches($text, '(?ms)^[ ]*```powershell\r?\n(.*?)^[ ]*```')) {
            $index++
            $code = $match.Groups[1].Value
            if ($code -match 'ESCAPE_SQUOTE') { continue }    # the job step: BizTalk.Tests.ps1
            # Code blocks inside list items are indented: drop the common indentation.
            $lines = $code -split '\r?\n'
            $indent = ($lines | Where-Object { $_.Trim() } | ForEach-Object { $_.Length - $_.TrimStart().Length } | Measure-Object -Minimum).Minimum
            @{ Readme = $readme; Index = $index; Code = (($lines | ForEach-Object { if ($_.Length -ge $indent) { $_.Substring($indent) } else { $_ } }) -join "`n") }
        }
    }
}

BeforeAll {
    Import-Module LinkedServer -Force
    Import-Module (Join-Path $PSScriptRoot 'StandIn.psm1') -Force
    $cred = Get-TestCredential
    $logins = @("sa:Str0ng!Passw0rd:sysadmin", 'olduser:0ldUser!Pass')
    $peer = Start-StandIn -Name SQL02 -Login $logins
    $mgmt = Start-StandIn -Name MGMT01 -Login $logins -Arguments @('--peer', "PEER=$($peer.Endpoint)")

    function Invoke-Example([string]$Code) {
        # Bare instance names become quoted addresses (a bare "tcp:host,port" would be an array).
        $code = $Code.Replace("'SQL01'", "'$($mgmt.Instance)'").Replace("'SQL02'", "'$($peer.Instance)'")
        $code = $code -replace "(?<!')\b(MGMT01|SQL01)\b(?!')", "'$($mgmt.Instance)'"
        $code = $code.Replace('(Get-Credential)', '$cred')
        $preamble = @'
$ErrorActionPreference = 'Stop'
$cred = New-Object System.Management.Automation.PSCredential -ArgumentList @('sa', (ConvertTo-SecureString $env:LSV_EXAMPLE_PASSWORD -AsPlainText -Force))
$PSDefaultParameterValues['*-LinkedServer*:SqlCredential'] = $cred
$PSDefaultParameterValues['*-LinkedServer*:TrustServerCertificate'] = $true
'@
        if ($code -notmatch 'Import-Module') { $preamble += "`nImport-Module LinkedServer" }
        if ($code -match '\$mgmt\b' -and $code -notmatch '\$mgmt = ') { $preamble += "`n`$mgmt = Connect-LinkedServerInstance -SqlInstance '$($mgmt.Instance)'" }
        # The install examples run in a fresh profile, as a new user would run them; the others
        # use the module run.ps1 installed the same way.
        $environment = @{ LSV_EXAMPLE_PASSWORD = 'Str0ng!Passw0rd' }
        if ($code -match 'Install-PSResource') {
            $profileDir = Join-Path $env:LSV_TEST_WORK ('example-' + [guid]::NewGuid().ToString('n').Substring(0, 8))
            New-Item -ItemType Directory -Path "$profileDir/.local/share", "$profileDir/.config", "$profileDir/.cache" -Force | Out-Null
            $environment += @{ HOME = $profileDir; XDG_DATA_HOME = "$profileDir/.local/share"; XDG_CONFIG_HOME = "$profileDir/.config"
                XDG_CACHE_HOME = "$profileDir/.cache"; PSModulePath = $null }
        }
        $saved = @{}
        foreach ($name in $environment.Keys) {
            $saved[$name] = [Environment]::GetEnvironmentVariable($name)
            [Environment]::SetEnvironmentVariable($name, $environment[$name])
        }
        Push-Location $env:LSV_TEST_ROOT
        try {
            $output = & $env:LSV_TEST_PWSH -NoProfile -NonInteractive -Command ($preamble + "`n" + $code) 2>&1
            [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = @($output | ForEach-Object { "$_" }) }
        }
        finally {
            Pop-Location
            foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
        }
    }
}
AfterAll {
    $mgmt, $peer | Stop-StandIn
}

Describe 'README examples' {
    BeforeEach {
        # Links the examples work on: REPORTS with a mapping of olduser, OFFLINE with RPC Out off.
        $c = Connect-LinkedServerInstance -SqlInstance $mgmt.Instance -SqlCredential $cred -TrustServerCertificate
        try {
            Get-LinkedServer -Connection $c | Remove-LinkedServer -DropLogins -Force
            New-LinkedServer -Connection $c -LinkedServer REPORTS -Product '' -Provider MSOLEDBSQL -DataSource 'PEER' -RpcOut:$false | Out-Null
            Add-LinkedServerLogin -Connection $c -LinkedServer REPORTS -LocalLogin olduser -UseSelf
            New-LinkedServer -Connection $c -LinkedServer OFFLINE -Product 'SQL Server' -RpcOut:$false -Rpc:$false | Out-Null
        }
        finally { $c.Dispose() }
    }
    It '<Readme> block <Index> runs as written' -ForEach $blocks {
        $result = Invoke-Example $Code
        $result.ExitCode | Should -Be 0 -Because ($result.Output -join "`n")
        # Lines like "$failure[0].Exception.Number   # 15015" print what their comment says.
        $expected = @(($Code -split "`n") | Where-Object { $_ -match '^\$\S+\s+#\s+(\S.*)$' } | ForEach-Object { $Matches[1].Trim() })
        if ($expected.Count -gt 0) {
            $result.Output[-$expected.Count..-1] | Should -Be $expected
        }
        $state = Get-StandInState -StandIn $mgmt
        $links = @($state.servers | Where-Object { $_.server_id -ne 0 })
        if ($Code -match 'Set-LinkedServerOption -RpcOut\s*$' -or $Code -match 'Set-LinkedServerOption -Rpc -RpcOut') {
            # Every link of the instance has RPC Out on afterwards.
            @($links | Where-Object { -not $_.rpc_out }).Count | Should -Be 0
        }
        if ($Code -match "New-LinkedServer .*'SQL02\\BTS'") {
            $bts = $links | Where-Object name -eq 'SQL02\BTS'
            $bts.rpc_out | Should -BeTrue
            @($state.linked_logins | Where-Object { $_.server_id -eq $bts.server_id -and $_.uses_self_credential }).Count | Should -BeGreaterThan 0
        }
        if ($Code -match 'LocalLogin -eq olduser \| Remove-LinkedServerLogin') {
            $reports = ($links | Where-Object name -eq 'REPORTS').server_id
            $olduser = ($state.logins | Where-Object name -eq 'olduser').principal_id
            @($state.linked_logins | Where-Object { $_.server_id -eq $reports -and $_.local_principal_id -eq $olduser }).Count | Should -Be 0
        }
    }
}
