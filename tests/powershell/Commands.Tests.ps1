# Every exported command and parameter set of the installed module against stand-ins; -WhatIf is
# checked through the stand-in's state file, connections through the stand-in's counters and the
# kernel's TCP table, never through the module itself.
BeforeAll {
    Import-Module LinkedServer -Force
    Import-Module (Join-Path $PSScriptRoot 'StandIn.psm1') -Force
    $cred = Get-TestCredential
    $peer = Start-StandIn -Name PEER
    $mgmt = Start-StandIn -Name MGMT -Arguments @('--peer', "PEER=$($peer.Endpoint)")
    # Connection-string clients validate the stand-in's certificate; -SqlInstance ones trust it.
    $connectionString = "Server=$($mgmt.Instance);Encrypt=true;ServerCertificate=$($mgmt.Cert)"
    $client = Connect-LinkedServerInstance -ConnectionString $connectionString -SqlCredential $cred
    $sqlInstance = @{ SqlInstance = $mgmt.Instance; SqlCredential = $cred; TrustServerCertificate = $true }
    function Get-LinkNames { @((Get-StandInState -StandIn $mgmt).servers | Where-Object { $_.server_id -ne 0 } | ForEach-Object { $_.name }) }
}
AfterAll {
    if ($client) { $client.Dispose() }
    $mgmt, $peer | Stop-StandIn
}

Describe 'Connect-LinkedServerInstance' {
    It 'connects by -SqlInstance with -SqlCredential and -TrustServerCertificate' {
        $c = Connect-LinkedServerInstance @sqlInstance
        try {
            $c | Should -BeOfType LinkedServer.Interop.LinkedServerClient
            $c.SqlInstance | Should -Be $mgmt.Instance
            $c.IsClosed | Should -BeFalse
        }
        finally { $c.Dispose() }
    }
    It 'takes -Credential as an alias, -Encrypt and several instances from the pipeline' {
        $clients = @($mgmt.Instance, $peer.Instance | Connect-LinkedServerInstance -Credential $cred -Encrypt Mandatory -TrustServerCertificate)
        try {
            $clients.Count | Should -Be 2
            $clients.SqlInstance | Should -Be @($mgmt.Instance, $peer.Instance)
        }
        finally { $clients | ForEach-Object { $_.Dispose() } }
    }
    It 'shows how it is connected: GetConnectionInfo, its list view and the -Verbose line' {
        $info = $client.GetConnectionInfo()
        $info.Encryption | Should -Be 'full'
        $info.CertificateValidated | Should -BeTrue
        ($info | Out-String) | Should -Match 'CertificateValidated\s*:\s*True'
        $c = Connect-LinkedServerInstance @sqlInstance -Verbose 4>&1 | Where-Object { $_ -is [LinkedServer.Interop.LinkedServerClient] -or $_ -is [System.Management.Automation.VerboseRecord] }
        try {
            $line = @($c | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -match 'encryption' })
            $line.Count | Should -Be 1
            $line[0].Message | Should -Match 'encryption full, certificate validated: False'
        }
        finally { $c | Where-Object { $_ -is [LinkedServer.Interop.LinkedServerClient] } | ForEach-Object { $_.Dispose() } }
    }
    It 'connects by -ConnectionString, naming the instance from its Server key' {
        $client.SqlInstance | Should -Be $mgmt.Instance
    }
    It 'resolves a relative -LibraryPath against $PWD, not the process folder' {
        $library = Join-Path (Get-Module LinkedServer).ModuleBase 'linux-x64'
        Push-Location $library
        try {
            [System.Environment]::CurrentDirectory | Should -Not -Be $library
            $c = Connect-LinkedServerInstance @sqlInstance -LibraryPath './liblinkedsrv.so'
            $c.Library.Path | Should -Be (Join-Path $library 'liblinkedsrv.so')
            $c.Dispose()
        }
        finally { Pop-Location }
    }
    It 'resolves a relative LSV_NATIVE_LIBRARY against $PWD' {
        $library = Join-Path (Get-Module LinkedServer).ModuleBase 'linux-x64'
        Push-Location (Get-Module LinkedServer).ModuleBase
        $env:LSV_NATIVE_LIBRARY = 'linux-x64/liblinkedsrv.so'
        try {
            $names = @(Get-LinkedServer @sqlInstance -ErrorAction Stop)
            $c = Connect-LinkedServerInstance @sqlInstance
            $c.Library.Path | Should -Be (Join-Path $library 'liblinkedsrv.so')
            $c.Dispose()
        }
        finally {
            Remove-Item Env:\LSV_NATIVE_LIBRARY
            Pop-Location
        }
    }
    It 'reports a missing relative -LibraryPath with the full path it looked at' {
        Push-Location $env:LSV_TEST_WORK
        try {
            Connect-LinkedServerInstance @sqlInstance -LibraryPath 'nothere/liblinkedsrv.so' -ErrorVariable failure -ErrorAction SilentlyContinue
            $failure.Count | Should -Be 1
            $failure[0].FullyQualifiedErrorId | Should -Be 'LinkedServer.Library,Connect-LinkedServerInstance'
            $failure[0].Exception.Message | Should -BeLike "*$env:LSV_TEST_WORK/nothere/liblinkedsrv.so*"
        }
        finally { Pop-Location }
    }
    It 'is the only command with -LibraryPath' {
        foreach ($command in (Get-Module LinkedServer).ExportedCommands.Values) {
            $command.Parameters.ContainsKey('LibraryPath') | Should -Be ($command.Name -eq 'Connect-LinkedServerInstance') -Because $command.Name
        }
    }
    It 'without -SqlCredential on Linux fails with one error that says Integrated Security is Windows-only' {
        Connect-LinkedServerInstance -SqlInstance $mgmt.Instance -TrustServerCertificate -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure.Count | Should -Be 1
        $failure[0].FullyQualifiedErrorId | Should -Be 'LinkedServer.Unsupported,Connect-LinkedServerInstance'
        $failure[0].Exception.Message | Should -BeLike '*Integrated Security*Windows*'
        (Get-Help Connect-LinkedServerInstance).Description.Text | Should -BeLike '*on Linux and macOS*LinkedServer.Unsupported*'
    }
    It 'never claims a Windows identity for a connection string, and never shows its password' {
        $verbose = Connect-LinkedServerInstance -ConnectionString "$connectionString;User ID=sa;Password=$((Get-TestCredential).GetNetworkCredential().Password)" -Verbose 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        ($verbose.Message -join "`n") | Should -Not -BeLike '*Windows identity*'
        ($verbose.Message -join "`n") | Should -Not -BeLike '*Str0ng*'
        ($verbose.Message -join "`n") | Should -BeLike '*credentials the connection string names*'
    }
}

Describe 'linked server lifecycle through -Connection' {
    It 'New-LinkedServer creates with switch options and outputs the link with SqlInstance' {
        $link = New-LinkedServer -Connection $client -LinkedServer 'PEER' -Product 'SQL Server' -Rpc -RpcOut -QueryTimeout 60
        $link.Name | Should -Be 'PEER'
        $link.SqlInstance | Should -Be $mgmt.Instance
        $row = (Get-StandInState -StandIn $mgmt).servers | Where-Object name -eq 'PEER'
        $row.rpc | Should -BeTrue
        $row.rpc_out | Should -BeTrue
        $row.query_timeout | Should -Be 60
    }
    It 'New-LinkedServer takes -Name as an alias and a provider spec' {
        New-LinkedServer -Connection $client -Name 'ALIAS1' -Product '' -Provider MSOLEDBSQL -DataSource 'tcp:somewhere,1433' -DataAccess:$false | Out-Null
        $row = (Get-StandInState -StandIn $mgmt).servers | Where-Object name -eq 'ALIAS1'
        $row.provider | Should -Be 'MSOLEDBSQL'
        $row.data_access | Should -BeFalse
    }
    It 'Get-LinkedServer lists all, reads by -LinkedServer and by -Name, and shows SqlInstance in its table view' {
        @(Get-LinkedServer -Connection $client).Name | Should -Be @('ALIAS1', 'PEER')
        (Get-LinkedServer -Connection $client -LinkedServer PEER).Name | Should -Be 'PEER'
        (Get-LinkedServer -Connection $client -Name ALIAS1, PEER).Name | Should -Be @('ALIAS1', 'PEER')
        ($client | Get-LinkedServer -LinkedServer PEER).Name | Should -Be 'PEER'
        $table = Get-LinkedServer -Connection $client -LinkedServer PEER | Format-Table | Out-String -Width 300
        $table | Should -BeLike '*SqlInstance*'
        $table | Should -BeLike "*$($mgmt.Instance)*"
    }
    It 'Set-LinkedServerOption: -RpcOut alone turns RPC Out on, -RpcOut:$false off' {
        Set-LinkedServerOption -Connection $client -LinkedServer ALIAS1 -RpcOut
        ((Get-StandInState -StandIn $mgmt).servers | Where-Object name -eq 'ALIAS1').rpc_out | Should -BeTrue
        Set-LinkedServerOption -Connection $client -LinkedServer ALIAS1 -RpcOut:$false
        ((Get-StandInState -StandIn $mgmt).servers | Where-Object name -eq 'ALIAS1').rpc_out | Should -BeFalse
    }
    It 'Set-LinkedServerOption: -Name is the linked server, -Option/-Value any option, -PassThru outputs it' {
        $after = Set-LinkedServerOption -Connection $client -Name ALIAS1 -Option 'lazy schema validation' -Value $true -PassThru
        $after.Name | Should -Be 'ALIAS1'
        $after.LazySchemaValidation | Should -BeTrue
        ((Get-StandInState -StandIn $mgmt).servers | Where-Object name -eq 'ALIAS1').lazy_schema_validation | Should -BeTrue
    }
    It 'Set-LinkedServerOption refuses a call without any option' {
        { Set-LinkedServerOption -Connection $client -LinkedServer ALIAS1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'LinkedServer.InvalidArgument,Set-LinkedServerOption'
    }
    It 'Add-LinkedServerLogin maps with -RemoteCredential, -UseSelf and -NoSecurityContext, -PassThru outputs the link' {
        $after = Add-LinkedServerLogin -Connection $client -LinkedServer ALIAS1 -LocalLogin sa -RemoteCredential (Get-TestCredential -UserName reader -Password 'R3ader!') -PassThru
        ($after.Logins | Where-Object LocalLogin -eq 'sa').RemoteUser | Should -Be 'reader'
        Add-LinkedServerLogin -Connection $client -Name ALIAS1 -NoSecurityContext | Out-Null
        Add-LinkedServerLogin -Connection $client -LinkedServer PEER -UseSelf
        $state = Get-StandInState -StandIn $mgmt
        $alias = ($state.servers | Where-Object name -eq 'ALIAS1').server_id
        @($state.linked_logins | Where-Object { $_.server_id -eq $alias -and $_.remote_name -eq 'reader' }).Count | Should -Be 1
        (Get-StandInStateText -StandIn $mgmt) | Should -Not -BeLike '*R3ader*'
    }
    It 'Add-LinkedServerLogin refuses two modes at once' {
        { Add-LinkedServerLogin -Connection $client -LinkedServer ALIAS1 -UseSelf -NoSecurityContext -ErrorAction Stop } |
            Should -Throw -ErrorId 'LinkedServer.InvalidArgument,Add-LinkedServerLogin'
    }
    It 'Test-LinkedServer outputs success with SqlInstance, and a failure as a result' {
        $ok = Test-LinkedServer -Connection $client -LinkedServer PEER
        $ok.Success | Should -BeTrue
        $ok.SqlInstance | Should -Be $mgmt.Instance
        $bad = Get-LinkedServer -Connection $client -LinkedServer ALIAS1 | Set-LinkedServerOption -DataAccess -PassThru | Test-LinkedServer
        $bad.Success | Should -BeFalse
        $bad.Number | Should -BeGreaterThan 0
    }
    It 'Remove-LinkedServerLogin removes one mapping from pipeline input; -PassThru outputs the rest' {
        $after = (Get-LinkedServer -Connection $client -LinkedServer ALIAS1).Logins | Where-Object LocalLogin -eq 'sa' |
            Remove-LinkedServerLogin -Confirm:$false -PassThru
        @($after.Logins | Where-Object LocalLogin -eq 'sa').Count | Should -Be 0
        $state = Get-StandInState -StandIn $mgmt
        $alias = ($state.servers | Where-Object name -eq 'ALIAS1').server_id
        @($state.linked_logins | Where-Object { $_.server_id -eq $alias -and $_.remote_name -eq 'reader' }).Count | Should -Be 0
    }
    It 'Remove-LinkedServer drops with -Confirm:$false and -PassThru outputs the link as it was' {
        $gone = Remove-LinkedServer -Connection $client -LinkedServer ALIAS1 -DropLogins -Confirm:$false -PassThru
        $gone.Name | Should -Be 'ALIAS1'
        Get-LinkNames | Should -Not -Contain 'ALIAS1'
    }
    It 'Remove-LinkedServer without -Force or -Confirm:$false asks, and a non-interactive host cannot answer' {
        { Remove-LinkedServer -Connection $client -LinkedServer PEER -ErrorAction Stop } | Should -Throw
        Get-LinkNames | Should -Contain 'PEER'
    }
}

Describe '-WhatIf changes nothing (checked in the stand-in state file)' {
    BeforeAll {
        New-LinkedServer -Connection $client -LinkedServer WHATIF -Product 'SQL Server' | Out-Null
        $before = Get-StandInStateText -StandIn $mgmt
    }
    It '<Name>' -ForEach @(
        @{ Name = 'New-LinkedServer'; Call = { New-LinkedServer -Connection $client -LinkedServer NEWONE -Product 'SQL Server' -WhatIf } }
        @{ Name = 'Remove-LinkedServer'; Call = { Remove-LinkedServer -Connection $client -LinkedServer WHATIF -Force -WhatIf } }
        @{ Name = 'Add-LinkedServerLogin'; Call = { Add-LinkedServerLogin -Connection $client -LinkedServer WHATIF -LocalLogin sa -NoSecurityContext -WhatIf } }
        @{ Name = 'Remove-LinkedServerLogin'; Call = { Remove-LinkedServerLogin -Connection $client -LinkedServer WHATIF -Force -WhatIf } }
        @{ Name = 'Set-LinkedServerOption'; Call = { Set-LinkedServerOption -Connection $client -LinkedServer WHATIF -RpcOut:$false -QueryTimeout 5 -NewName OTHER -WhatIf } }
        @{ Name = 'New-LinkedServer -SqlInstance'; Call = { New-LinkedServer @sqlInstance -LinkedServer NEWTWO -Product 'SQL Server' -WhatIf } }
        @{ Name = 'Set-LinkedServerOption from the pipeline'; Call = { Get-LinkedServer -Connection $client | Set-LinkedServerOption -Rpc:$false -WhatIf } }
    ) {
        $output = & $Call
        $output | Should -BeNullOrEmpty
        Get-StandInStateText -StandIn $mgmt | Should -BeExactly $before
    }
}

Describe 'the -SqlInstance parameter set' {
    It 'every changing command works with -SqlInstance, -SqlCredential and -TrustServerCertificate' {
        New-LinkedServer @sqlInstance -LinkedServer SI1 -Product 'SQL Server' | Out-Null
        Set-LinkedServerOption @sqlInstance -LinkedServer SI1 -QueryTimeout 9
        Add-LinkedServerLogin @sqlInstance -LinkedServer SI1 -LocalLogin sa -UseSelf
        Remove-LinkedServerLogin @sqlInstance -LinkedServer SI1 -LocalLogin sa -Force
        (Test-LinkedServer @sqlInstance -LinkedServer SI1).Success | Should -BeFalse
        ((Get-StandInState -StandIn $mgmt).servers | Where-Object name -eq 'SI1').query_timeout | Should -Be 9
        Remove-LinkedServer @sqlInstance -LinkedServer SI1 -Force
        Get-LinkNames | Should -Not -Contain 'SI1'
    }
    It 'the -ConnectionString set works on every command' {
        $cs = @{ ConnectionString = $connectionString; SqlCredential = $cred }
        New-LinkedServer @cs -LinkedServer CS1 -Product 'SQL Server' | Out-Null
        (Get-LinkedServer @cs -LinkedServer CS1).Name | Should -Be 'CS1'
        Set-LinkedServerOption @cs -LinkedServer CS1 -ConnectTimeout 3
        Add-LinkedServerLogin @cs -LinkedServer CS1 -LocalLogin sa -NoSecurityContext
        Remove-LinkedServerLogin @cs -LinkedServer CS1 -LocalLogin sa -Force
        (Test-LinkedServer @cs -LinkedServer CS1).SqlInstance | Should -Be $mgmt.Instance
        Remove-LinkedServer @cs -LinkedServer CS1 -Force
        Get-LinkNames | Should -Not -Contain 'CS1'
    }
    It 'Get-LinkedServer reads several instances, from the parameter and from the pipeline' {
        $both = @(Get-LinkedServer -SqlInstance $mgmt.Instance, $peer.Instance -SqlCredential $cred -TrustServerCertificate)
        @($both | Where-Object SqlInstance -eq $mgmt.Instance).Count | Should -BeGreaterThan 0
        $piped = @($mgmt.Instance | Get-LinkedServer -SqlCredential $cred -TrustServerCertificate)
        $piped.Count | Should -Be @($both | Where-Object SqlInstance -eq $mgmt.Instance).Count
    }
    It 'objects from Get-LinkedServer -SqlInstance keep no live connection' {
        $links = @(Get-LinkedServer @sqlInstance)
        $links.Count | Should -BeGreaterThan 0
        $links[0].Connection.IsClosed | Should -BeTrue
        Wait-Condition { (Get-EstablishedConnectionCount -StandIn $mgmt) -eq 1 } | Should -BeTrue -Because 'only the -Connection client of these tests stays open'
        $links | Set-LinkedServerOption -Rpc -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -Be 'LinkedServer.ConnectionClosed,Set-LinkedServerOption'
        $failure[0].Exception.Message | Should -BeLike '*pass -SqlInstance to this command too*'
        # What the message advises works: the objects bind -LinkedServer, -SqlInstance connects.
        $links | Set-LinkedServerOption @sqlInstance -QueryTimeout 77
        foreach ($row in (Get-StandInState -StandIn $mgmt).servers | Where-Object { $_.server_id -ne 0 }) {
            $row.query_timeout | Should -Be 77 -Because $row.name
        }
    }
    It 'leaves no connection open after 50 calls, and opens exactly one per call' {
        $opened = Get-StandInConnectionCount -StandIn $mgmt
        foreach ($i in 1..50) {
            switch ($i % 5) {
                0 { Get-LinkedServer @sqlInstance | Out-Null }
                1 { Test-LinkedServer @sqlInstance -LinkedServer PEER | Out-Null }
                2 { Set-LinkedServerOption @sqlInstance -LinkedServer PEER -QueryTimeout $i }
                3 { Get-LinkedServer @sqlInstance -LinkedServer NOSUCH -ErrorAction SilentlyContinue }
                4 { Get-LinkedServer @sqlInstance | Select-Object -First 1 | Out-Null }
            }
        }
        # The stand-in's counters also count the query that reads them, which the function subtracts.
        (Get-StandInConnectionCount -StandIn $mgmt) - $opened - 1 | Should -Be 50
        Wait-Condition { (Get-EstablishedConnectionCount -StandIn $mgmt) -eq 1 } | Should -BeTrue
    }
    It 'closes its connection when a terminating error stops the command' {
        { Get-LinkedServer @sqlInstance -LinkedServer NOSUCH -ErrorAction Stop } | Should -Throw
        Wait-Condition { (Get-EstablishedConnectionCount -StandIn $mgmt) -eq 1 } | Should -BeTrue
    }
}

Describe 'tab completion' {
    It 'completes linked-server names from the -Connection on the line' {
        $line = 'Get-LinkedServer -Connection $client -LinkedServer PE'
        $completion = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $completion.CompletionMatches.CompletionText | Should -Contain 'PEER'
    }
    It 'completes linked-server names from the -SqlInstance on the line, and closes that connection' {
        $line = "Test-LinkedServer -SqlInstance '$($mgmt.Instance)' -SqlCredential `$cred -TrustServerCertificate -LinkedServer pe"
        $completion = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $completion.CompletionMatches.CompletionText | Should -Be @('PEER')
        Wait-Condition { (Get-EstablishedConnectionCount -StandIn $mgmt) -eq 1 } | Should -BeTrue
    }
    It 'quotes completed names that need it' {
        New-LinkedServer -Connection $client -LinkedServer 'With Space' -Product 'SQL Server' | Out-Null
        $line = 'Remove-LinkedServer -Connection $client -LinkedServer With'
        $completion = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $completion.CompletionMatches.CompletionText | Should -Contain "'With Space'"
    }
    It 'completes sp_serveroption names for -Option' {
        $line = 'Set-LinkedServerOption -Connection $client -LinkedServer PEER -Option rpc'
        $completion = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $completion.CompletionMatches.CompletionText | Should -Be @('rpc', "'rpc out'")
    }
}

Describe 'dbatools naming' {
    It '<Command> names the linked server -LinkedServer with the alias Name' -ForEach @(
        'Get-LinkedServer', 'New-LinkedServer', 'Remove-LinkedServer', 'Add-LinkedServerLogin',
        'Remove-LinkedServerLogin', 'Set-LinkedServerOption', 'Test-LinkedServer' | ForEach-Object { @{ Command = $_ } }) {
        $parameters = (Get-Command $Command).Parameters
        $parameters['LinkedServer'].Aliases | Should -Contain 'Name'
        $parameters['SqlCredential'].Aliases | Should -Contain 'Credential'
        $parameters['SqlInstance'].ParameterType | Should -Be ([string[]])
    }
    It 'the on/off options are switches on New-LinkedServer and Set-LinkedServerOption' {
        foreach ($command in 'New-LinkedServer', 'Set-LinkedServerOption') {
            (Get-Command $command).Parameters['RpcOut'].SwitchParameter | Should -BeTrue
        }
    }
    It 'Add-* and Remove-* have -PassThru' {
        foreach ($command in 'Add-LinkedServerLogin', 'Remove-LinkedServer', 'Remove-LinkedServerLogin') {
            (Get-Command $command).Parameters.ContainsKey('PassThru') | Should -BeTrue
        }
    }
}
