function Remove-LinkedServerLogin {
    <#
    .SYNOPSIS
    Removes the mapping of a local login (or the mapping for every login) from a linked server.
    .DESCRIPTION
    Calls sp_droplinkedsrvlogin through the linkedsrv library. Asks for confirmation
    (ConfirmImpact High) unless -Force or -Confirm:$false is given. Login objects from
    Get-LinkedServer's Logins property can be piped in.
    .PARAMETER LinkedServer
    The linked server.
    .PARAMETER LocalLogin
    The local login whose mapping goes. Omit (or pipe the all-logins mapping) to remove the mapping
    for every login, which leaves only explicitly mapped logins able to use the link.
    .PARAMETER Force
    Do not ask for confirmation.
    .PARAMETER Connection
    A client from Connect-LinkedServerInstance. Objects from Get-LinkedServer carry theirs, so piping
    them binds it.
    .PARAMETER SqlInstance
    Connect to this instance just for this command (see Connect-LinkedServerInstance).
    .PARAMETER ConnectionString
    Connect with this connection string just for this command.
    .PARAMETER Credential
    SQL login for -SqlInstance or -ConnectionString; omit for Integrated Security.
    .PARAMETER Encrypt
    With -SqlInstance: Mandatory (default), Optional or Strict.
    .PARAMETER TrustServerCertificate
    With -SqlInstance: accept the server certificate without validating it.
    .EXAMPLE
    Remove-LinkedServerLogin -Connection $mgmt -LinkedServer REPORTS -Force

    Removes the default mapping that lets every login connect as itself.
    .EXAMPLE
    (Get-LinkedServer -Connection $mgmt -Name REPORTS).Logins | Where-Object LocalLogin -eq 'olduser' | Remove-LinkedServerLogin
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High', DefaultParameterSetName = 'Connection')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [string]$LinkedServer,
        [Parameter(ValueFromPipelineByPropertyName)]
        [string]$LocalLogin,
        [switch]$Force,
        [Parameter(Mandatory, ParameterSetName = 'Connection', ValueFromPipelineByPropertyName)]
        [LinkedServer.Interop.LinkedServerClient]$Connection,
        [Parameter(Mandatory, ParameterSetName = 'SqlInstance')]
        [string]$SqlInstance,
        [Parameter(Mandatory, ParameterSetName = 'ConnectionString')]
        [string]$ConnectionString,
        [Parameter(ParameterSetName = 'SqlInstance')]
        [Parameter(ParameterSetName = 'ConnectionString')]
        [PSCredential]$Credential,
        [Parameter(ParameterSetName = 'SqlInstance')]
        [LinkedServer.Interop.LinkedServerEncrypt]$Encrypt,
        [Parameter(ParameterSetName = 'SqlInstance')]
        [switch]$TrustServerCertificate
    )
    begin {
        $state = @{ Opened = $null; Emitted = $false }
        if ($Force -and -not $PSBoundParameters.ContainsKey('Confirm')) {
            $ConfirmPreference = 'None'
        }
    }
    process {
        $client = Resolve-LinkedServerClient -ParameterSetName $PSCmdlet.ParameterSetName -BoundParameters $PSBoundParameters -State $state
        # An omitted -LocalLogin (or a null one from pipeline input) means every login (NULL).
        $local = if ($LocalLogin) { $LocalLogin } else { $null }
        $who = if ($local) { "login '$local'" } else { 'every login' }
        try {
            Write-Verbose "Removing the mapping of $who from linked server '$LinkedServer' ($client)"
            if ($PSCmdlet.ShouldProcess("$LinkedServer on $client", "Remove the mapping of $who")) {
                $client.UnmapLogin($LinkedServer, $local)
            }
        }
        catch {
            Write-LinkedServerError -Cmdlet $PSCmdlet -ErrorRecord $_ -Target $LinkedServer
        }
    }
    end {
        Close-LinkedServerClient -State $state
    }
}
