function Remove-LinkedServer {
    <#
    .SYNOPSIS
    Drops a linked server.
    .DESCRIPTION
    Calls sp_dropserver through the linkedsrv library. A linked server that still has login
    mappings other than the default one is refused unless -DropLogins is given. Asks for
    confirmation (ConfirmImpact High) unless -Force or -Confirm:$false is given.
    .PARAMETER LinkedServer
    The linked server to drop (alias Name). Get-LinkedServer output binds it from the pipeline.
    .PARAMETER DropLogins
    Also drop the server's login mappings (sp_dropserver @droplogins = 'droplogins').
    .PARAMETER Force
    Do not ask for confirmation.
    .PARAMETER PassThru
    Output the linked server as it was read just before it was dropped.
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
    Remove-LinkedServer -Connection $mgmt -LinkedServer OLDSQL -DropLogins

    Drops OLDSQL and its login mappings after confirmation.
    .EXAMPLE
    Get-LinkedServer -Connection $mgmt -LinkedServer TEMP1, TEMP2 | Remove-LinkedServer -DropLogins -Force
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High', DefaultParameterSetName = 'Connection')]
    [OutputType([LinkedServer.Interop.LinkedServerInfo])]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Name')]
        [string]$LinkedServer,
        [switch]$DropLogins,
        [switch]$Force,
        [switch]$PassThru,
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
    begin {
        if ($Force -and -not $PSBoundParameters.ContainsKey('Confirm')) {
            $ConfirmPreference = 'None'
        }
    }
    process {
        Use-LinkedServerClient -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters -Action {
            param($client)
            try {
                Write-Verbose "Dropping linked server '$LinkedServer' on $client (drop logins: $DropLogins)"
                if ($PSCmdlet.ShouldProcess("$LinkedServer on $client", 'Drop linked server')) {
                    $before = if ($PassThru) { $client.Get($LinkedServer) }
                    $client.Drop($LinkedServer, $DropLogins.IsPresent)
                    $before
                }
            }
            catch {
                Write-LinkedServerError -Cmdlet $PSCmdlet -ErrorRecord $_ -Target $LinkedServer
            }
        }
    }
}
