function Remove-LinkedServer {
    <#
    .SYNOPSIS
    Drops a linked server.
    .DESCRIPTION
    Calls sp_dropserver through the linkedsrv library. A linked server that still has login
    mappings other than the default one is refused unless -DropLogins is given. Asks for
    confirmation (ConfirmImpact High) unless -Force or -Confirm:$false is given.
    .PARAMETER Name
    The linked server to drop.
    .PARAMETER DropLogins
    Also drop the server's login mappings (sp_dropserver @droplogins = 'droplogins').
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
    Remove-LinkedServer -Connection $mgmt -Name OLDSQL -DropLogins

    Drops OLDSQL and its login mappings after confirmation.
    .EXAMPLE
    Get-LinkedServer -Connection $mgmt -Name TEMP1, TEMP2 | Remove-LinkedServer -DropLogins -Force
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High', DefaultParameterSetName = 'Connection')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [string]$Name,
        [switch]$DropLogins,
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
        try {
            Write-Verbose "Dropping linked server '$Name' on $client (drop logins: $DropLogins)"
            if ($PSCmdlet.ShouldProcess("$Name on $client", 'Drop linked server')) {
                $client.Drop($Name, $DropLogins.IsPresent)
            }
        }
        catch {
            Write-LinkedServerError -Cmdlet $PSCmdlet -ErrorRecord $_ -Target $Name
        }
    }
    end {
        Close-LinkedServerClient -State $state
    }
}
