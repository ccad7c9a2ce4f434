# Set-LinkedServer, Export-LinkedServer, Sync-BizTalkLinkedServer and Test-LinkedServer
# -RemoteCall of the installed module against stand-ins: a management instance whose BizTalk
# fixture lists BTS01 (a stand-in behind a link) and DEAD (no instance), checked through the
# stand-in's state file, never through the module itself.
BeforeAll {
    Import-Module LinkedServer -Force
    Import-Module (Join-Path $PSScriptRoot 'StandIn.psm1') -Force
    $cred = Get-TestCredential
    $fixtures = Join-Path $env:LSV_TEST_WORK 'desired-state'
    New-Item -ItemType Directory -Path $fixtures -Force | Out-Null
    @{ databases = @('BizTalkMsgBoxDb'); backup_databases = @() } | ConvertTo-Json | Set-Content "$fixtures/peer.json"
    @{ backup_databases = @(
            @{ ServerName = 'BTS01'; DatabaseName = 'BizTalkMsgBoxDb' },
            @{ ServerName = 'DEAD'; DatabaseName = 'BizTalkMsgBoxDb' }) } | ConvertTo-Json -Depth 3 | Set-Content "$fixtures/mgmt.json"
    $peer = Start-StandIn -Name BTS01 -Arguments @('--biztalk', "$fixtures/peer.json")
    $mgmt = Start-StandIn -Name MGMT -Login @("sa:Str0ng!Passw0rd:sysadmin", 'BizTalkJob:Job!Passw0rd') `
        -Arguments @('--peer', "BTS01=$($peer.Endpoint)", '--biztalk', "$fixtures/mgmt.json")
    $client = Connect-LinkedServerInstance -ConnectionString "Server=$($mgmt.Instance);Encrypt=true;ServerCertificate=$($mgmt.Cert)" -SqlCredential $cred
    $desired = @{
        Connection = $client; LinkedServer = 'BTS01'; Product = 'SQL Server'; ExactLogins = $true
        Option = @{ 'rpc' = $true; 'rpc out' = $true; 'query timeout' = 30 }
        Login = @(@{ LocalLogin = 'sa'; UseSelf = $true })
    }
    function Get-Links { @((Get-StandInState -StandIn $mgmt).servers | Where-Object { $_.server_id -ne 0 }) }
}
AfterAll {
    if ($client) { $client.Dispose() }
    $mgmt, $peer | Stop-StandIn
}

Describe 'Set-LinkedServer' {
    It '-WhatIf changes nothing' {
        Set-LinkedServer @desired -WhatIf
        @(Get-Links).Count | Should -Be 0
    }
    It 'creates the link with its options and only the listed mapping, then finds it converged' {
        $result = Set-LinkedServer @desired
        $result.Action | Should -Be 'created'
        $result.Changes | Should -Contain "option 'query timeout': 30"
        $result.Sql | Should -Match "sp_addlinkedserver @server = N'BTS01'"
        $link = Get-Links | Where-Object { $_.name -eq 'BTS01' }
        $link.rpc_out | Should -BeTrue
        $link.query_timeout | Should -Be 30
        (Set-LinkedServer @desired).Action | Should -Be 'unchanged'
    }
    It 'takes Get-LinkedServer output as the desired state' {
        (Get-LinkedServer -Connection $client -LinkedServer BTS01 | Set-LinkedServer -ExactLogins).Action | Should -Be 'unchanged'
    }
    It 'sends a remote password given as a SecureString and never shows it' {
        $secret = ConvertTo-SecureString 'Rem0te!Secret' -AsPlainText -Force
        $result = Set-LinkedServer -Connection $client -LinkedServer BTS01 -Login @{ LocalLogin = 'BizTalkJob'; RemoteUser = 'reader'; RemotePassword = $secret }
        $result.Action | Should -Be 'updated'
        ($result | ConvertTo-Json -Depth 5) | Should -Not -Match 'Rem0te!Secret'
        (Get-LinkedServer -Connection $client -LinkedServer BTS01).Logins.RemoteUser | Should -Contain 'reader'
    }
    It 'refuses an unknown local login before any change' {
        Set-LinkedServer -Connection $client -LinkedServer NEW1 -Login @{ LocalLogin = 'ghost'; UseSelf = $true } -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed.Count | Should -Be 1
        "$($failed[0])" | Should -Match 'ghost'
        @(Get-Links | Where-Object { $_.name -eq 'NEW1' }).Count | Should -Be 0
    }
}

Describe 'Export-LinkedServer' {
    It 'writes a guarded script without passwords, to the pipeline or a file' {
        $script = Export-LinkedServer -Connection $client -LinkedServer BTS01
        $script | Should -Match "IF NOT EXISTS \(SELECT 1 FROM sys.servers WHERE server_id <> 0 AND name = N'BTS01'\)"
        $script | Should -Match '@rmtpassword = @rmtpassword_1'
        $script | Should -Not -Match 'Rem0te!Secret'
        $file = Join-Path $fixtures 'export.sql'
        Export-LinkedServer -Connection $client -Path $file
        (Get-Content -Raw $file) | Should -Match "N'BTS01'"
    }
}

Describe 'Test-LinkedServer -RemoteCall' {
    It 'calls a procedure through the link and names the remote instance' {
        $result = Test-LinkedServer -Connection $client -LinkedServer BTS01 -RemoteCall
        $result.Ok | Should -BeTrue
        $result.RemoteServerName | Should -Be 'BTS01'
    }
}

Describe 'Sync-BizTalkLinkedServer' {
    It '-WhatIf plans without changing anything' {
        Sync-BizTalkLinkedServer -Connection $client -WhatIf -ErrorAction SilentlyContinue | Out-Null
        @(Get-Links | Where-Object { $_.name -eq 'DEAD' }).Count | Should -Be 0
    }
    It 'links and tests every backed-up instance; a failing one is a non-terminating error' {
        $results = @(Sync-BizTalkLinkedServer -Connection $client -JobLogin sa -ErrorVariable failed -ErrorAction SilentlyContinue)
        $results.Name | Should -Be @('BTS01', 'DEAD')
        ($results | Where-Object Name -eq 'BTS01').Ok | Should -BeTrue
        ($results | Where-Object Name -eq 'BTS01').RemoteServerName | Should -Be 'BTS01'
        ($results | Where-Object Name -eq 'DEAD').Stage | Should -Be 'network'
        $failed.Count | Should -Be 1
        "$($failed[0])" | Should -Match "DEAD"
        (Get-Links | Where-Object { $_.name -eq 'DEAD' }).rpc_out | Should -BeTrue
    }
}
