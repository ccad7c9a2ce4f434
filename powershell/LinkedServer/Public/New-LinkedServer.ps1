function New-LinkedServer {
    <#
    .SYNOPSIS
    Creates a linked server, optionally with its server options, in one all-or-nothing call.
    .DESCRIPTION
    Calls sp_addlinkedserver (and sp_serveroption for each option given) through the linkedsrv
    library, with every value sent as a parameter. If any step fails nothing is left behind. SQL
    Server adds its default mapping (every login connects as itself); change it with
    Add-LinkedServerLogin and Remove-LinkedServerLogin. Outputs the new linked server.
    .PARAMETER LinkedServer
    The linked server name (alias Name), as four-part names and BizTalk's tables spell it.
    .PARAMETER Product
    'SQL Server' makes the name the network name of the remote instance (Provider and DataSource must
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
    New-LinkedServer -Connection $mgmt -LinkedServer 'SQL02\BTS' -Product 'SQL Server' -Rpc -RpcOut

    A link named after the remote instance, with RPC and RPC Out on, as the BizTalk backup job needs.
    .EXAMPLE
    New-LinkedServer -SqlInstance SQL01 -LinkedServer BTSALIAS -Product '' -Provider MSOLEDBSQL -DataSource 'tcp:sql02.contoso.com,50100' -QueryTimeout 1800 -WhatIf

    Shows what would be created for an alias name that points to another host and port.
    #>
    [CmdletBinding(SupportsShouldProcess, DefaultParameterSetName = 'Connection')]
    [OutputType([LinkedServer.Interop.LinkedServerInfo])]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Name')]
        [string]$LinkedServer,
        [string]$Product,
        [string]$Provider,
        [string]$DataSource,
        [string]$Location,
        [string]$ProviderString,
        [string]$Catalog,
        [switch]$Rpc,
        [switch]$RpcOut,
        [switch]$DataAccess,
        [switch]$CollationCompatible,
        [switch]$UseRemoteCollation,
        [AllowNull()]
        [AllowEmptyString()]
        [string]$CollationName,
        [ValidateRange(0, 2147483647)]
        [int]$ConnectTimeout,
        [ValidateRange(0, 2147483647)]
        [int]$QueryTimeout,
        [switch]$LazySchemaValidation,
        [switch]$RemoteProcTransactionPromotion,
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
        $spec = [LinkedServer.Interop.LinkedServerSpec]::FromParameters(
            (ConvertTo-LinkedServerParameterValue -BoundParameters $PSBoundParameters))
        Use-LinkedServerClient -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters -Action {
            param($client)
            try {
                Write-Verbose "Creating linked server '$LinkedServer' on $client with spec $spec"
                if ($PSCmdlet.ShouldProcess("$LinkedServer on $client", 'Create linked server')) {
                    $client.Create($LinkedServer, $spec)
                    $client.Get($LinkedServer)
                }
            }
            catch {
                Write-LinkedServerError -Cmdlet $PSCmdlet -ErrorRecord $_ -Target $LinkedServer
            }
        }
    }
}
