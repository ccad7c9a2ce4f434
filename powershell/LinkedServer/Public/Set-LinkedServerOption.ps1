function Set-LinkedServerOption {
    <#
    .SYNOPSIS
    Sets sp_serveroption options of a linked server, such as RPC Out.
    .DESCRIPTION
    Calls sp_serveroption through the linkedsrv library once per option given, in a fixed order;
    the library checks each option name and value before sending it. Every sp_serveroption option
    has its own parameter (the on/off ones are switches: -RpcOut turns RPC Out on, -RpcOut:$false
    turns it off); -Option and -Value set any option by its sp_serveroption name. Options set
    before a failing one stay set.
    .PARAMETER LinkedServer
    The linked server (alias Name). Get-LinkedServer output binds it from the pipeline.
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
    .PARAMETER Publisher
    'pub': replication publisher.
    .PARAMETER Subscriber
    'sub': replication subscriber.
    .PARAMETER Distributor
    'dist': replication distributor.
    .PARAMETER ProviderString
    'provider string': replaces the provider string; $null for none.
    .PARAMETER NewName
    'name': renames the linked server locally.
    .PARAMETER Option
    Any sp_serveroption option name, such as 'rpc out' (tab completes them); use with -Value.
    .PARAMETER Value
    The value for -Option: $true/$false, an integer, a string, or $null.
    .PARAMETER PassThru
    Output the linked server after the change.
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
    Get-LinkedServer -SqlInstance SQL01 | Set-LinkedServerOption -Rpc -RpcOut

    Turns RPC and RPC Out on for every linked server on SQL01.
    .EXAMPLE
    Set-LinkedServerOption -Connection $mgmt -LinkedServer 'SQL02\BTS' -QueryTimeout 1800 -PassThru
    .EXAMPLE
    Set-LinkedServerOption -Connection $mgmt -LinkedServer REPORTS -RpcOut:$false -DataAccess
    .EXAMPLE
    Set-LinkedServerOption -Connection $mgmt -LinkedServer REPORTS -Option 'lazy schema validation' -Value $true -WhatIf
    #>
    [CmdletBinding(SupportsShouldProcess, DefaultParameterSetName = 'Connection')]
    [OutputType([LinkedServer.Interop.LinkedServerInfo])]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Name')]
        [string]$LinkedServer,
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
        [switch]$Publisher,
        [switch]$Subscriber,
        [switch]$Distributor,
        [AllowNull()]
        [AllowEmptyString()]
        [string]$ProviderString,
        [string]$NewName,
        [string]$Option,
        [AllowNull()]
        [AllowEmptyString()]
        [object]$Value,
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
        $changes = [LinkedServer.Interop.LinkedServerOptions]::FromParameters(
            (ConvertTo-LinkedServerParameterValue -BoundParameters $PSBoundParameters))
        if ($Option) {
            $changes.Add((New-Object 'System.Collections.Generic.KeyValuePair[string, object]' -ArgumentList @($Option, $Value)))
        }
        if ($changes.Count -eq 0) {
            $PSCmdlet.ThrowTerminatingError((New-Object System.Management.Automation.ErrorRecord -ArgumentList @(
                (New-Object System.ArgumentException 'Give at least one option parameter, or -Option and -Value.'),
                'LinkedServer.InvalidArgument', [System.Management.Automation.ErrorCategory]::InvalidArgument, $null)))
        }
    }
    process {
        Use-LinkedServerClient -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters -Action {
            param($client)
            # After a rename ('name', from -NewName or -Option name) the later calls use the new name.
            $serverName = $LinkedServer
            try {
                foreach ($change in $changes) {
                    $text = [LinkedServer.Interop.LinkedServerOptions]::FormatValue($change.Value)
                    $shown = [LinkedServer.Interop.LinkedServerOptions]::DisplayValue($change.Key, $text)
                    Write-Verbose "Setting '$($change.Key)' to $shown on linked server '$serverName' ($client)"
                    if ($PSCmdlet.ShouldProcess("$serverName on $client", "Set '$($change.Key)' to $shown")) {
                        $client.SetOption($serverName, $change.Key, $text)
                        if ($change.Key -eq 'name') {
                            $serverName = $text
                        }
                    }
                }
                if ($PassThru) {
                    $client.Get($serverName)
                }
            }
            catch {
                Write-LinkedServerError -Cmdlet $PSCmdlet -ErrorRecord $_ -Target $LinkedServer
            }
        }
    }
}
