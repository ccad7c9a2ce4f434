function Use-LinkedServerClient {
    <#
    .SYNOPSIS
    Runs a command's work once per client: its -Connection, or each -SqlInstance it connects to.
    .DESCRIPTION
    Called from the process block of every command but Connect-LinkedServerInstance. In the
    Connection parameter set, runs -Action with the command's -Connection (a closed one is reported
    as LinkedServer.ConnectionClosed instead). Otherwise connects to each -SqlInstance (or the
    -ConnectionString) with the command's -SqlCredential, -Encrypt and -TrustServerCertificate,
    runs -Action with that client and disposes it in a finally block, so no connection outlives
    the call, even when the pipeline is stopped or an error terminates it. A failed connect is
    reported once, through the command, and that instance is skipped. While -Action runs, the
    client observes the pipeline's stop token (PowerShell 7.5+), so Ctrl+C or Stop() cancels a
    native call that waits on the server (lsv_cancel) instead of waiting for its Command Timeout.
    A plain function on purpose: -Action sees the command's variables, $PSCmdlet included.
    .PARAMETER Cmdlet
    The calling command's $PSCmdlet.
    .PARAMETER BoundParameters
    The calling command's $PSBoundParameters.
    .PARAMETER Action
    The work, called with the client as its only argument; its output is the command's output.
    .EXAMPLE
    Use-LinkedServerClient -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters -Action { param($client) $client.List() }
    #>
    param(
        [System.Management.Automation.PSCmdlet]$Cmdlet,
        [System.Collections.IDictionary]$BoundParameters,
        [scriptblock]$Action
    )
    if ($Cmdlet.ParameterSetName -eq 'Connection') {
        $lsvClient = $BoundParameters['Connection']
        if ($lsvClient.IsClosed) {
            $lsvError = New-Object System.Management.Automation.ErrorRecord -ArgumentList @(
                (New-Object System.ObjectDisposedException -ArgumentList @('LinkedServerClient',
                    "The connection to $lsvClient is closed. Objects from a command given -SqlInstance hold a closed connection once that command ends: pass -SqlInstance to this command too, or open one with Connect-LinkedServerInstance and pass -Connection.")),
                'LinkedServer.ConnectionClosed', [System.Management.Automation.ErrorCategory]::InvalidOperation, "$lsvClient")
            $Cmdlet.WriteError($lsvError)
            return
        }
        Invoke-LinkedServerAction -Cmdlet $Cmdlet -Client $lsvClient -Action $Action
        return
    }
    $lsvConnect = @{}
    foreach ($lsvKey in 'ConnectionString', 'SqlCredential', 'Encrypt', 'TrustServerCertificate') {
        if ($BoundParameters.ContainsKey($lsvKey)) {
            $lsvConnect[$lsvKey] = $BoundParameters[$lsvKey]
        }
    }
    # One round without an instance for -ConnectionString (an if statement would unroll @($null) to nothing).
    $lsvInstances = @($null)
    if ($BoundParameters.ContainsKey('SqlInstance')) {
        $lsvInstances = $BoundParameters['SqlInstance']
    }
    foreach ($lsvInstance in $lsvInstances) {
        try {
            $lsvClient = Open-LinkedServerClient -SqlInstance $lsvInstance @lsvConnect
        }
        catch {
            Write-LinkedServerError -Cmdlet $Cmdlet -ErrorRecord $_ -Target $lsvInstance
            continue
        }
        try {
            Invoke-LinkedServerAction -Cmdlet $Cmdlet -Client $lsvClient -Action $Action
        }
        finally {
            $lsvClient.Dispose()
        }
    }
}
