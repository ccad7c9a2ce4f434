# Ctrl+C during a call that waits on the server: PowerShell stops the pipeline (what Ctrl+C does,
# here through PowerShell.Stop() on another runspace), the module hands the pipeline's stop token to
# the client, and lsv_cancel interrupts the native call. The stand-in stalls sp_serveroption and
# the connection's Command Timeout is 600 s, so without the cancel Stop() would not return for
# ten minutes; the test waits at most 60 s for it.
BeforeAll {
    Import-Module LinkedServer -Force
    Import-Module (Join-Path $PSScriptRoot 'StandIn.psm1') -Force
    $cred = Get-TestCredential
    $stall = Start-StandIn -Name STALL -Arguments @('--stall-at-procedure', 'sp_serveroption')
}
AfterAll {
    Stop-StandIn $stall
}

Describe 'stopping a stalled call' {
    It 'Stop() returns, the command is stopped and its connection closed' {
        $runspace = [powershell]::Create()
        $null = $runspace.AddScript({
                param($instance, $cred)
                Import-Module LinkedServer
                $client = Connect-LinkedServerInstance -ConnectionString "Server=$instance;Encrypt=true;TrustServerCertificate=true;Command Timeout=600" -SqlCredential $cred
                try {
                    Set-LinkedServerOption -Connection $client -LinkedServer ANY -RpcOut
                }
                finally {
                    $client.Dispose()
                }
            }).AddArgument($stall.Instance).AddArgument($cred)
        $invocation = $runspace.BeginInvoke()
        try {
            # The stand-in has received the stalled request on the module's connection (the first).
            Wait-Condition {
                $rows = @((Invoke-StandInQuery -StandIn $stall -Sql 'EXEC sp_standin_stats').rows)
                $rows.Count -ge 2 -and $rows[0][2] -ge 1
            } | Should -BeTrue
            $runspace.InvocationStateInfo.State | Should -Be 'Running'
            $stop = $runspace.BeginStop($null, $null)
            $stop.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(60)) | Should -BeTrue -Because 'lsv_cancel ends the stalled call'
            $runspace.EndStop($stop)
            $runspace.InvocationStateInfo.State | Should -Be 'Stopped'
            Wait-Condition { (Get-EstablishedConnectionCount -StandIn $stall) -eq 0 } | Should -BeTrue
        }
        finally {
            $runspace.Dispose()
        }
    }
}
