function Test-LinkedServer {
    <#
    .SYNOPSIS
    Tests that the instance can reach and log in to a linked server.
    .DESCRIPTION
    Runs sp_testlinkedserver through the linkedsrv library and outputs one result per linked
    server: SqlInstance, Name, Success, and for a failure the SQL error number and message (the
    full exception is in the Exception property). Failures that are not the linked server's (such
    as a lost connection to the instance or an unknown name) are written as errors instead. Run it
    in the security context that will use the link (for BizTalk, inside the Agent job step): a test
    from a workstation is a double hop and may fail, or succeed, for other reasons.
    .PARAMETER LinkedServer
    The linked server to test (alias Name). Get-LinkedServer output binds it from the pipeline.
    .PARAMETER RemoteCall
    After sp_testlinkedserver, also call a procedure through the link, as the BizTalk backup job
    does (sp_executesql in the remote master): outputs SqlInstance, Name, Ok, the Stage that
    failed (network, login or rpc: for example 7411 when RPC Out is off), Number, Message and
    RemoteServerName, the remote @@SERVERNAME.
    .PARAMETER Connection
    A client from Connect-LinkedServerInstance. Objects from Get-LinkedServer carry theirs, so piping
    them binds it.
    .PARAMETER SqlInstance
    One or more instances to connect to just for this command (see Connect-LinkedServerInstance);
    each connection is closed before the command returns.
    .PARAMETER ConnectionString
    Connect with this connection string just for this command.
    .PARAMETER SqlCredential
    SQL login for -SqlInstance or -ConnectionString (alias Credential). Omitted: on Windows the
    current Windows identity; on Linux and macOS the library has no Integrated Security and the
    connect fails with LinkedServer.Unsupported, so give a SQL login there.
    .PARAMETER Encrypt
    With -SqlInstance: Mandatory (default), Optional or Strict. -SqlCredential, -Encrypt and
    -TrustServerCertificate are in every parameter set, so $PSDefaultParameterValues can hold them;
    a -Connection ignores them, and a -ConnectionString takes only -SqlCredential.
    .PARAMETER TrustServerCertificate
    With -SqlInstance: accept the server certificate without validating it.
    .EXAMPLE
    Test-LinkedServer -SqlInstance SQL01 -LinkedServer 'SQL02\BTS'
    .EXAMPLE
    Get-LinkedServer -Connection $mgmt | Test-LinkedServer | Where-Object { -not $_.Success }

    Lists every linked server that cannot be reached, with the SQL error.
    .EXAMPLE
    Test-LinkedServer -Connection $mgmt -LinkedServer 'SQL02\BTS' -RemoteCall

    Shows whether a remote procedure call through the link works, and where it fails.
    #>
    [CmdletBinding(DefaultParameterSetName = 'Connection')]
    [OutputType([LinkedServer.Interop.LinkedServerTestResult], [LinkedServer.Interop.LinkedServerProbeResult])]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Name')]
        [string]$LinkedServer,
        [switch]$RemoteCall,
        [Parameter(Mandatory, ParameterSetName = 'Connection', ValueFromPipelineByPropertyName)]
        [LinkedServer.Interop.LinkedServerClient]$Connection,
        [Parameter(Mandatory, ParameterSetName = 'SqlInstance')]
        [string[]]$SqlInstance,
        [Parameter(Mandatory, ParameterSetName = 'ConnectionString')]
        [string]$ConnectionString,
        [Alias('Credential')]
        [PSCredential]$SqlCredential,
        [LinkedServer.Interop.LinkedServerEncrypt]$Encrypt,
        [switch]$TrustServerCertificate
    )
    process {
        Use-LinkedServerClient -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters -Action {
            param($client)
            try {
                Write-Verbose "Testing linked server '$LinkedServer' on $client"
                if ($RemoteCall) {
                    $result = $client.Probe($LinkedServer)
                }
                else {
                    $result = $client.TryTest($LinkedServer)
                }
                Add-Member -InputObject $result -NotePropertyName SqlInstance -NotePropertyValue $client.SqlInstance -PassThru
            }
            catch {
                Write-LinkedServerError -Cmdlet $PSCmdlet -ErrorRecord $_ -Target $LinkedServer
            }
        }
    }
}
