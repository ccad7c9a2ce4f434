# The SQL Agent job step of powershell/README.md, verbatim: the Agent token $(ESCAPE_SQUOTE(SRVR))
# replaced as Agent would (the instance's name, here the management stand-in's address, single
# quotes doubled), run by a fresh pwsh against a management stand-in with the BizTalk fixture whose
# admv_BackupDatabases names two BizTalk stand-ins. Agent's Windows identity does not exist here:
# the host sets the SQL login through $PSDefaultParameterValues, as the step documents, and trusts
# the stand-in's certificate through SSL_CERT_FILE (both the module and SqlClient validate it).
BeforeAll {
    Import-Module LinkedServer -Force
    Import-Module (Join-Path $PSScriptRoot 'StandIn.psm1') -Force
    $cred = Get-TestCredential
    $readme = Get-Content -Raw -LiteralPath (Join-Path $env:LSV_TEST_ROOT 'powershell/README.md')
    $step = [regex]::Match($readme, '(?ms)^```powershell\r?\n(# Ensure linked servers for the Backup BizTalk Server job.*?)^```').Groups[1].Value

    $fixtures = Join-Path $env:LSV_TEST_WORK 'biztalk'
    New-Item -ItemType Directory -Path $fixtures -Force | Out-Null
    $databases = @{ databases = @('BizTalkMsgBoxDb', 'BizTalkDTADb'); backup_databases = @() }
    $databases | ConvertTo-Json | Set-Content "$fixtures/peer.json"
    $bts = Start-StandIn -Name 'SQL02\BTS' -Arguments @('--biztalk', "$fixtures/peer.json")
    $dta = Start-StandIn -Name 'SQL03' -Arguments @('--biztalk', "$fixtures/peer.json")
    @{
        databases        = @('BizTalkMsgBoxDb')
        backup_databases = @(
            @{ ServerName = 'SQL02\BTS'; DatabaseName = 'BizTalkMsgBoxDb' },
            @{ ServerName = 'SQL03'; DatabaseName = 'BizTalkDTADb' },
            @{ ServerName = 'SQL03'; DatabaseName = 'BizTalkRuleEngineDb' })
    } | ConvertTo-Json -Depth 4 | Set-Content "$fixtures/mgmt.json"
    $mgmt = Start-StandIn -Name 'MGMT01' -Arguments @('--biztalk', "$fixtures/mgmt.json",
        '--peer', "SQL02\BTS=$($bts.Endpoint)", '--peer', "SQL03=$($dta.Endpoint)")

    # SQL03 already exists, half right: RPC Out off and no self mapping; SQL02\BTS is missing.
    $c = Connect-LinkedServerInstance -SqlInstance $mgmt.Instance -SqlCredential $cred -TrustServerCertificate
    New-LinkedServer -Connection $c -LinkedServer SQL03 -Product 'SQL Server' -RpcOut:$false | Out-Null
    Remove-LinkedServerLogin -Connection $c -LinkedServer SQL03 -Force
    $c.Dispose()

    function Invoke-JobStep([string]$Text) {
        # What Agent does with the token: ESCAPE_SQUOTE doubles single quotes in the value.
        $agentText = $Text.Replace('$(ESCAPE_SQUOTE(SRVR))', $mgmt.Instance.Replace("'", "''"))
        $prelude = @'
$PSDefaultParameterValues['Connect-LinkedServerInstance:SqlCredential'] = New-Object System.Management.Automation.PSCredential -ArgumentList @('sa', (ConvertTo-SecureString $env:LSV_STEP_PASSWORD -AsPlainText -Force))
'@
        $env:LSV_STEP_PASSWORD = 'Str0ng!Passw0rd'
        $env:SSL_CERT_FILE = $mgmt.Cert
        try {
            $output = & $env:LSV_TEST_PWSH -NoProfile -NonInteractive -Command ($prelude + $agentText) 2>&1
            [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = @($output | ForEach-Object { "$_" }); AgentText = $agentText }
        }
        finally {
            Remove-Item Env:\LSV_STEP_PASSWORD, Env:\SSL_CERT_FILE
        }
    }
    $run = Invoke-JobStep $step
}
AfterAll {
    $mgmt, $bts, $dta | Stop-StandIn
}

Describe 'the BizTalk job step' {
    It 'is found in the README, disposes its connections in finally and has no $( but the Agent token' {
        $step | Should -Not -BeNullOrEmpty
        $run.AgentText | Should -Not -BeLike '*$(*'
        $ast = [System.Management.Automation.Language.Parser]::ParseInput($step, [ref]$null, [ref]$null)
        $try = $ast.Find({ param($node) $node -is [System.Management.Automation.Language.TryStatementAst] }, $true)
        $try.Finally.Extent.Text | Should -BeLike '*$mgmt.Dispose()*'
    }
    It 'runs to the end' {
        $run.ExitCode | Should -Be 0 -Because ($run.Output -join "`n")
    }
    It 'creates the missing link, turns RPC Out on, maps the job login and tests every link' {
        $run.Output | Should -Contain 'SQL02\BTS: created, reached SQL02\BTS'
        $run.Output | Should -Contain 'SQL03: updated, reached SQL03'
        $links = @((Get-StandInState -StandIn $mgmt).servers | Where-Object { $_.server_id -ne 0 })
        @($links | Where-Object { -not ($_.rpc -and $_.rpc_out) }).Count | Should -Be 0
    }
    It 'leaves links that work: a four-part call of the BizTalk procedure through <Link> (python-tds)' -ForEach @(
        @{ Link = 'SQL02\BTS'; Database = 'BizTalkMsgBoxDb' }, @{ Link = 'SQL03'; Database = 'BizTalkDTADb' }) {
        # The backup job's call: the BizTalk database's procedure through the link, which sets its
        # OUTPUT parameter to the name of the instance it ran on; return status 0.
        $sql = "DECLARE @rc int, @n sysname; EXEC @rc = [$Link].[$Database].[dbo].[sp_GetServerName] @n OUTPUT; SELECT @rc, @n"
        $result = Invoke-StandInQuery -StandIn $mgmt -Sql $sql
        $result.error | Should -BeNullOrEmpty -Because $result.message
        $result.rows[0][0] | Should -Be 0
        $result.rows[0][1] | Should -Be $Link
    }
    It 'changes nothing on a second run' {
        $before = Get-StandInStateText -StandIn $mgmt
        $again = Invoke-JobStep $step
        $again.ExitCode | Should -Be 0 -Because ($again.Output -join "`n")
        $again.Output | Should -Contain 'SQL02\BTS: unchanged, reached SQL02\BTS'
        (Get-StandInStateText -StandIn $mgmt) | Should -BeExactly $before
    }
    It 'fails the job when a link cannot be tested' {
        Stop-StandIn $dta
        $broken = Invoke-JobStep $step
        $broken.ExitCode | Should -Not -Be 0
        ($broken.Output -join "`n") | Should -BeLike "*Linked server 'SQL03'*failed at stage network*"
        ($broken.Output -join "`n") | Should -BeLike '*1 linked server(s) failed*'
    }
}
