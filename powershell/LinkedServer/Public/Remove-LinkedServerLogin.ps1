function Remove-LinkedServerLogin {
    <#
    .SYNOPSIS
    Removes the mapping of a local login (or the mapping for every login) from a linked server.
    .DESCRIPTION
    Calls sp_droplinkedsrvlogin through the linkedsrv library. Asks for confirmation
    (ConfirmImpact High) unless -Force or -Confirm:$false is given. Login objects from
    Get-LinkedServer's Logins property can be piped in.
    .PARAMETER LinkedServer
    The linked server (alias Name).
    .PARAMETER LocalLogin
    The local login whose mapping goes. Omit (or pipe the all-logins mapping) to remove the mapping
    for every login, which leaves only explicitly mapped logins able to use the link.
    .PARAMETER Force
    Do not ask for confirmation.
    .PARAMETER PassThru
    Output the linked server after the change, with the mappings it has left.
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
    Remove-LinkedServerLogin -Connection $mgmt -LinkedServer REPORTS -Force

    Removes the default mapping that lets every login connect as itself.
    .EXAMPLE
    (Get-LinkedServer -Connection $mgmt -LinkedServer REPORTS).Logins | Where-Object LocalLogin -eq 'olduser' | Remove-LinkedServerLogin
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High', DefaultParameterSetName = 'Connection')]
    [OutputType([LinkedServer.Interop.LinkedServerInfo])]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Name')]
        [string]$LinkedServer,
        [Parameter(ValueFromPipelineByPropertyName)]
        [string]$LocalLogin,
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
            # An omitted -LocalLogin (or a null one from pipeline input) means every login (NULL).
            $local = if ($LocalLogin) { $LocalLogin } else { $null }
            $who = if ($local) { "login '$local'" } else { 'every login' }
            try {
                Write-Verbose "Removing the mapping of $who from linked server '$LinkedServer' ($client)"
                if ($PSCmdlet.ShouldProcess("$LinkedServer on $client", "Remove the mapping of $who")) {
                    $client.UnmapLogin($LinkedServer, $local)
                    if ($PassThru) {
                        $client.Get($LinkedServer)
                    }
                }
            }
            catch {
                Write-LinkedServerError -Cmdlet $PSCmdlet -ErrorRecord $_ -Target $LinkedServer
            }
        }
    }
}
