# ErrorRecords under each -ErrorAction, and connect failures that must give one clear error each.
BeforeAll {
    Import-Module LinkedServer -Force
    Import-Module (Join-Path $PSScriptRoot 'StandIn.psm1') -Force
    $cred = Get-TestCredential
    $mgmt = Start-StandIn -Name MGMT
    $client = Connect-LinkedServerInstance -SqlInstance $mgmt.Instance -SqlCredential $cred -TrustServerCertificate
    # A port nothing listens on: a stand-in started and stopped again.
    $gone = Start-StandIn -Name GONE
    Stop-StandIn $gone
    # The procedures answer Msg 15015; lsv_get finds no catalog row and reports 15015 as well.
    function Assert-NotFound($record, $command, $number = 15015) {
        $id = "LinkedServer.NotFound.$number"
        $record.FullyQualifiedErrorId | Should -Be "$id,$command"
        $record.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $record.CategoryInfo.TargetName | Should -Be 'NOSUCH'
        $record.Exception | Should -BeOfType LinkedServer.Interop.LinkedServerException
        $record.Exception.Number | Should -Be $number
        $record.Exception.Status | Should -Be 'NotFound'
    }
}
AfterAll {
    if ($client) { $client.Dispose() }
    Stop-StandIn $mgmt
}

Describe 'ErrorRecords of a failed call' {
    It '-ErrorAction Stop throws one terminating ErrorRecord' {
        $caught = $null
        try { Remove-LinkedServer -Connection $client -LinkedServer NOSUCH -Force -ErrorAction Stop }
        catch { $caught = $_ }
        Assert-NotFound $caught 'Remove-LinkedServer'
    }
    It '-ErrorAction Continue writes one error and goes on with the next input' {
        New-LinkedServer -Connection $client -LinkedServer THERE -Product 'SQL Server' | Out-Null
        $found = Get-LinkedServer -Connection $client -LinkedServer NOSUCH, THERE -ErrorAction Continue -ErrorVariable failure 2>$null
        $failure.Count | Should -Be 1
        Assert-NotFound $failure[0] 'Get-LinkedServer'
        $found.Name | Should -Be 'THERE'
    }
    It '-ErrorAction SilentlyContinue shows nothing but still records the error' {
        $Error.Clear()
        $output = Set-LinkedServerOption -Connection $client -LinkedServer NOSUCH -RpcOut -ErrorAction SilentlyContinue -ErrorVariable failure *>&1
        $output | Should -BeNullOrEmpty
        $failure.Count | Should -Be 1
        Assert-NotFound $failure[0] 'Set-LinkedServerOption'
        $Error.Count | Should -Be 1
    }
    It 'a call on a disposed client is LinkedServer.ConnectionClosed' {
        $closed = Connect-LinkedServerInstance -SqlInstance $mgmt.Instance -SqlCredential $cred -TrustServerCertificate
        $closed.Dispose()
        Get-LinkedServer -Connection $closed -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure.Count | Should -Be 1
        $failure[0].FullyQualifiedErrorId | Should -Be 'LinkedServer.ConnectionClosed,Get-LinkedServer'
        $failure[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
    }
}

Describe 'connect failures give one clear error and no second one' {
    It '<Case>' -ForEach @(
        @{ Case = 'wrong password'; Id = 'LinkedServer.Authentication.18456'; Category = 'AuthenticationError'; Status = 'Authentication'; Number = 18456
            Connect = @{ SqlInstance = '{mgmt}'; SqlCredential = 'wrong'; TrustServerCertificate = $true } }
        @{ Case = 'closed port'; Id = 'LinkedServer.Connection'; Category = 'ConnectionError'; Status = 'Connection'; Number = 0
            Connect = @{ SqlInstance = '{gone}'; SqlCredential = 'right'; TrustServerCertificate = $true } }
        @{ Case = 'untrusted self-signed certificate'; Id = 'LinkedServer.Tls'; Category = 'SecurityError'; Status = 'Tls'; Number = 0
            Connect = @{ SqlInstance = '{mgmt}'; SqlCredential = 'right' } }
    ) {
        $parameters = @{}
        foreach ($key in $Connect.Keys) { $parameters[$key] = $Connect[$key] }
        $parameters.SqlInstance = $parameters.SqlInstance.Replace('{mgmt}', $mgmt.Instance).Replace('{gone}', $gone.Instance)
        $parameters.SqlCredential = if ($Connect.SqlCredential -eq 'wrong') { Get-TestCredential -Password 'Wrong!1' } else { $cred }
        foreach ($command in 'Connect-LinkedServerInstance', 'Get-LinkedServer', 'Set-LinkedServerOption') {
            $extra = if ($command -eq 'Set-LinkedServerOption') { @{ LinkedServer = 'X'; RpcOut = $true } } else { @{} }
            $Error.Clear()
            & $command @parameters @extra -ErrorVariable failure -ErrorAction SilentlyContinue | Out-Null
            $failure.Count | Should -Be 1 -Because "$command gives one error"
            $Error.Count | Should -Be 1 -Because "$command leaves no second error behind"
            $failure[0].FullyQualifiedErrorId | Should -Be "$Id,$command"
            $failure[0].CategoryInfo.Category | Should -Be $Category
            $failure[0].Exception.Status | Should -Be $Status
            $failure[0].Exception.Number | Should -Be $Number
            "$($failure[0])" | Should -Not -BeLike '*null-valued*'
            "$($failure[0])" | Should -Not -BeLike '*Str0ng*'
        }
    }
    It 'the self-signed certificate is accepted with -TrustServerCertificate' {
        $c = Connect-LinkedServerInstance -SqlInstance $mgmt.Instance -SqlCredential $cred -TrustServerCertificate -ErrorAction Stop
        $c.IsClosed | Should -BeFalse
        $c.Dispose()
    }
    It 'under -ErrorAction Stop a command given -SqlInstance throws the connect error itself' {
        $caught = $null
        try { Get-LinkedServer -SqlInstance $gone.Instance -SqlCredential $cred -TrustServerCertificate -ErrorAction Stop }
        catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be 'LinkedServer.Connection,Get-LinkedServer'
    }
}
