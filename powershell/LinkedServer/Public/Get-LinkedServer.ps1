function Get-LinkedServer {
    <#
    .SYNOPSIS
    Gets linked servers with their options and login mappings.
    .DESCRIPTION
    Reads sys.servers and sys.linked_logins through the linkedsrv library. Each output object
    carries its connection, so it can be piped to Set-LinkedServerOption, Add-LinkedServerLogin,
    Remove-LinkedServer and the other commands. With -SqlInstance the connection stays open for as
    long as the output objects are in use.
    .PARAMETER Name
    Linked server names (exact). Omit to get every linked server.
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
    Get-LinkedServer -SqlInstance SQL01

    Lists every linked server on SQL01: name, product, provider, data source, RPC Out, data access
    and login mappings.
    .EXAMPLE
    Get-LinkedServer -Connection $mgmt -Name 'SQL02\BTS' | Select-Object -ExpandProperty Logins
    .EXAMPLE
    Get-LinkedServer -Connection $mgmt | Where-Object { -not $_.RpcOut } | Set-LinkedServerOption -RpcOut $true
    #>
    [CmdletBinding(DefaultParameterSetName = 'Connection')]
    [OutputType([LinkedServer.Interop.LinkedServerInfo])]
    param(
        [Parameter(Position = 0)]
        [string[]]$Name,
        [Parameter(Mandatory, ParameterSetName = 'Connection', ValueFromPipeline, ValueFromPipelineByPropertyName)]
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
    }
    process {
        $client = Resolve-LinkedServerClient -ParameterSetName $PSCmdlet.ParameterSetName -BoundParameters $PSBoundParameters -State $state
        if (-not $Name) {
            Write-Verbose "Listing linked servers on $client"
            try {
                $servers = $client.List()
                # The objects carry the connection: it must outlive this command.
                if ($servers.Count -gt 0) {
                    $state.Emitted = $true
                }
                $servers
            }
            catch {
                Write-LinkedServerError -Cmdlet $PSCmdlet -ErrorRecord $_ -Target "$client"
            }
            return
        }
        foreach ($serverName in $Name) {
            Write-Verbose "Reading linked server '$serverName' on $client"
            try {
                $server = $client.Get($serverName)
                $state.Emitted = $true
                $server
            }
            catch {
                Write-LinkedServerError -Cmdlet $PSCmdlet -ErrorRecord $_ -Target $serverName
            }
        }
    }
    end {
        Close-LinkedServerClient -State $state
    }
}
