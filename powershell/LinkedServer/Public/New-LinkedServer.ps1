function New-LinkedServer {
    <#
    .SYNOPSIS
    Creates a linked server, optionally with its server options, in one all-or-nothing call.
    .DESCRIPTION
    Calls sp_addlinkedserver (and sp_serveroption for each option given) through the linkedsrv
    library, with every value sent as a parameter. If any step fails nothing is left behind. SQL
    Server adds its default mapping (every login connects as itself); change it with
    Add-LinkedServerLogin and Remove-LinkedServerLogin. Outputs the new linked server.
    .PARAMETER Name
    The linked server name, as four-part names and BizTalk's tables spell it.
    .PARAMETER Product
    'SQL Server' makes Name the network name of the remote instance (Provider and DataSource must
    then be omitted). Any other value, including '', needs -Provider and usually -DataSource.
    .PARAMETER Provider
    The OLE DB provider, such as MSOLEDBSQL.
    .PARAMETER DataSource
    The provider's data source, such as host\instance or tcp:host,port.
    .PARAMETER Location
    The provider's location.
    .PARAMETER ProviderString
    The provider string. It is a connection string of its own: keep credentials out of it.
    .PARAMETER Catalog
    The default catalog (database).
    .PARAMETER Rpc
    'rpc': allow remote procedure calls from the linked server (legacy, inbound).
    .PARAMETER RpcOut
    'rpc out': allow remote procedure calls to the linked server (EXEC [server].db.schema.proc).
    .PARAMETER DataAccess
    'data access': allow distributed queries (four-part names, OPENQUERY).
    .PARAMETER CollationCompatible
    'collation compatible': character comparisons may run on the linked server.
    .PARAMETER UseRemoteCollation
    'use remote collation': use the remote column collation (or -CollationName).
    .PARAMETER CollationName
    'collation name': the collation of a non-SQL Server source; $null for none.
    .PARAMETER ConnectTimeout
    'connect timeout' in seconds; 0 uses the server-wide 'remote login timeout'.
    .PARAMETER QueryTimeout
    'query timeout' in seconds; 0 uses the server-wide 'remote query timeout'.
    .PARAMETER LazySchemaValidation
    'lazy schema validation': skip remote schema checks at query start.
    .PARAMETER RemoteProcTransactionPromotion
    'remote proc transaction promotion': promote to an MS DTC transaction on a remote call inside a local transaction.
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
    New-LinkedServer -Connection $mgmt -Name 'SQL02\BTS' -Product 'SQL Server' -Rpc $true -RpcOut $true

    A link named after the remote instance, with RPC and RPC Out on, as the BizTalk backup job needs.
    .EXAMPLE
    New-LinkedServer -SqlInstance SQL01 -Name BTSALIAS -Product '' -Provider MSOLEDBSQL -DataSource 'tcp:sql02.contoso.com,50100' -QueryTimeout 1800 -WhatIf

    Shows what would be created for an alias name that points to another host and port.
    #>
    [CmdletBinding(SupportsShouldProcess, DefaultParameterSetName = 'Connection')]
    [OutputType([LinkedServer.Interop.LinkedServerInfo])]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [string]$Name,
        [string]$Product,
        [string]$Provider,
        [string]$DataSource,
        [string]$Location,
        [string]$ProviderString,
        [string]$Catalog,
        [bool]$Rpc,
        [bool]$RpcOut,
        [bool]$DataAccess,
        [bool]$CollationCompatible,
        [bool]$UseRemoteCollation,
        [AllowNull()]
        [AllowEmptyString()]
        [string]$CollationName,
        [ValidateRange(0, 2147483647)]
        [int]$ConnectTimeout,
        [ValidateRange(0, 2147483647)]
        [int]$QueryTimeout,
        [bool]$LazySchemaValidation,
        [bool]$RemoteProcTransactionPromotion,
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
    }
    process {
        $client = Resolve-LinkedServerClient -ParameterSetName $PSCmdlet.ParameterSetName -BoundParameters $PSBoundParameters -State $state
        try {
            $spec = [LinkedServer.Interop.LinkedServerSpec]::FromParameters($PSBoundParameters)
            Write-Verbose "Creating linked server '$Name' on $client with spec $spec"
            if ($PSCmdlet.ShouldProcess("$Name on $client", 'Create linked server')) {
                $client.Create($Name, $spec)
                $created = $client.Get($Name)
                # The object carries the connection: it must outlive this command.
                $state.Emitted = $true
                $created
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
