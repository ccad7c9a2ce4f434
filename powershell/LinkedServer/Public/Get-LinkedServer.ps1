function Get-LinkedServer {
    <#
    .SYNOPSIS
    Gets linked servers with their options and login mappings.
    .DESCRIPTION
    Reads sys.servers and sys.linked_logins through the linkedsrv library (one query per call).
    Each output object carries SqlInstance and its connection, so it can be piped to
    Set-LinkedServerOption, Add-LinkedServerLogin, Remove-LinkedServer and the other commands. With
    -SqlInstance the connection is open while the objects flow down the pipeline and closed when
    this command ends: objects kept in a variable then hold a closed connection.
    .PARAMETER LinkedServer
    Linked server names (exact; alias Name). Omit to get every linked server.
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
    Get-LinkedServer -SqlInstance SQL01

    Lists every linked server on SQL01: instance, name, product, provider, data source, RPC Out,
    data access and login mappings.
    .EXAMPLE
    'SQL01', 'SQL02' | Get-LinkedServer -LinkedServer REPORTS

    Reads the link REPORTS on two instances.
    .EXAMPLE
    Get-LinkedServer -Connection $mgmt -LinkedServer 'SQL02\BTS' | Select-Object -ExpandProperty Logins
    .EXAMPLE
    Get-LinkedServer -Connection $mgmt | Where-Object { -not $_.RpcOut } | Set-LinkedServerOption -RpcOut
    #>
    # SqlInstance first: instance names piped in bind to it (with Connection as the default set,
    # the binder would not try the others for a string).
    [CmdletBinding(DefaultParameterSetName = 'SqlInstance')]
    [OutputType([LinkedServer.Interop.LinkedServerInfo])]
    param(
        [Parameter(Position = 0)]
        [Alias('Name')]
        [string[]]$LinkedServer,
        [Parameter(Mandatory, ParameterSetName = 'Connection', ValueFromPipelineByPropertyName, ValueFromPipeline)]
        [LinkedServer.Interop.LinkedServerClient]$Connection,
        [Parameter(Mandatory, ParameterSetName = 'SqlInstance', ValueFromPipeline)]
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
            if (-not $LinkedServer) {
                Write-Verbose "Listing linked servers on $client"
                try {
                    $client.List()
                }
                catch {
                    Write-LinkedServerError -Cmdlet $PSCmdlet -ErrorRecord $_ -Target "$client"
                }
                return
            }
            foreach ($serverName in $LinkedServer) {
                Write-Verbose "Reading linked server '$serverName' on $client"
                try {
                    $client.Get($serverName)
                }
                catch {
                    Write-LinkedServerError -Cmdlet $PSCmdlet -ErrorRecord $_ -Target $serverName
                }
            }
        }
    }
}
