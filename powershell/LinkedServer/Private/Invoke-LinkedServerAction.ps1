function Invoke-LinkedServerAction {
    <#
    .SYNOPSIS
    Runs a command's work with the client, cancelling its native calls when the pipeline stops.
    .DESCRIPTION
    Hands the pipeline's stop token ($PSCmdlet.PipelineStopToken, PowerShell 7.5 and later) to the
    client for the time of -Action and puts the client's own token back afterwards (a -Connection
    client is shared). Windows PowerShell 5.1 has no such token: there a stopped pipeline waits
    for the call in flight to end (at the latest its Command Timeout). A plain function, like
    Use-LinkedServerClient, so -Action sees the command's variables.
    .PARAMETER Cmdlet
    The calling command's $PSCmdlet.
    .PARAMETER Client
    The client -Action works with.
    .PARAMETER Action
    The work, called with the client as its only argument.
    .EXAMPLE
    Invoke-LinkedServerAction -Cmdlet $Cmdlet -Client $lsvClient -Action $Action
    #>
    param(
        [System.Management.Automation.PSCmdlet]$Cmdlet,
        [LinkedServer.Interop.LinkedServerClient]$Client,
        [scriptblock]$Action
    )
    $lsvStop = $Cmdlet.PipelineStopToken
    if ($null -eq $lsvStop) {
        & $Action $Client
        return
    }
    $lsvPrevious = $Client.CancellationToken
    $Client.CancellationToken = $lsvStop
    try {
        & $Action $Client
    }
    finally {
        $Client.CancellationToken = $lsvPrevious
    }
}
