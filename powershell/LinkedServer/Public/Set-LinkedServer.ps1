function Set-LinkedServer {
    <#
    .SYNOPSIS
    Brings a linked server to a desired state in one call: definition, options and login mappings.
    .DESCRIPTION
    Describes the linked server as it should be and lets the linkedsrv library converge it
    (lsv_ensure): one request reads the catalog, one request makes every change, and a failing
    change undoes the others. The desired state comes from the parameters or from a
    Get-LinkedServer object (so a server can be copied, or put back as it was read). Options and
    mappings not given are left alone; -ExactLogins also removes mappings not given (the one for
    every login too, unless a mapping with LocalLogin $null is given). A matching remote-user
    mapping keeps its stored password unless -SetPasswords. Outputs one result per server:
    Name, Action (created, updated, recreated, unchanged), Changes and the T-SQL that ran (Sql).
    -WhatIf shows that T-SQL (passwords as variables) and changes nothing.
    .PARAMETER LinkedServer
    The linked server's name. Get-LinkedServer output binds it from the pipeline.
    .PARAMETER InputObject
    A linked server as Get-LinkedServer outputs it: its definition, every option and its
    mappings (without passwords) become the desired state.
    .PARAMETER Product
    'SQL Server' (the name is the network name) or another product name ('' with MSOLEDBSQL for
    an alias).
    .PARAMETER Provider
    The OLE DB provider, e.g. MSOLEDBSQL, for a product other than 'SQL Server'.
    .PARAMETER DataSource
    The data source (host\instance, host,port) for a provider link.
    .PARAMETER Location
    The provider's location.
    .PARAMETER ProviderString
    The provider string.
    .PARAMETER Catalog
    The default database of a provider link.
    .PARAMETER Option
    sp_serveroption settings: a hashtable of option names and values, such as
    @{ 'rpc' = $true; 'rpc out' = $true; 'query timeout' = 600 }.
    .PARAMETER Login
    Login mappings: hashtables with LocalLogin ($null: every login) and either UseSelf = $true or
    RemoteUser and RemotePassword (a SecureString), or the Logins of a Get-LinkedServer object.
    .PARAMETER ExactLogins
    Also remove the mappings not listed (LSV_ENSURE_EXACT_LOGINS).
    .PARAMETER AllowRecreate
    Drop and re-create the server when product, provider, data source, location, provider string
    or catalog differ; options and mappings are kept (LSV_ENSURE_ALLOW_RECREATE).
    .PARAMETER SetPasswords
    Send the password of every listed remote-user mapping again (LSV_ENSURE_SET_PASSWORDS).
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
    Set-LinkedServer -Connection $mgmt -LinkedServer 'SQL02\BTS' -Product 'SQL Server' -Option @{ 'rpc' = $true; 'rpc out' = $true } -Login @{ LocalLogin = 'CONTOSO\svc-bts'; UseSelf = $true } -ExactLogins

    Creates or converges the link the BizTalk backup job needs: RPC and RPC Out on, only the job's
    account mapped, to itself (the mapping for every login is dropped).
    .EXAMPLE
    Get-LinkedServer -Connection $old -LinkedServer 'SQL02\BTS' | Set-LinkedServer -Connection $new -WhatIf

    Shows the T-SQL that would make the link on the new instance like the one on the old instance.
    #>
    [CmdletBinding(SupportsShouldProcess, DefaultParameterSetName = 'Connection')]
    [OutputType([LinkedServer.Interop.LinkedServerEnsureResult])]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Name')]
        [string]$LinkedServer,
        [Parameter(ValueFromPipeline)]
        [LinkedServer.Interop.LinkedServerInfo]$InputObject,
        [string]$Product,
        [string]$Provider,
        [string]$DataSource,
        [string]$Location,
        [string]$ProviderString,
        [string]$Catalog,
        [hashtable]$Option,
        [object[]]$Login,
        [switch]$ExactLogins,
        [switch]$AllowRecreate,
        [switch]$SetPasswords,
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
        $flags = [LinkedServer.Interop.LinkedServerEnsureFlags]'None'
        if ($ExactLogins) { $flags = $flags -bor [LinkedServer.Interop.LinkedServerEnsureFlags]'ExactLogins' }
        if ($AllowRecreate) { $flags = $flags -bor [LinkedServer.Interop.LinkedServerEnsureFlags]'AllowRecreate' }
        if ($SetPasswords) { $flags = $flags -bor [LinkedServer.Interop.LinkedServerEnsureFlags]'SetPasswords' }
        $planFlags = $flags -bor [LinkedServer.Interop.LinkedServerEnsureFlags]'DryRun'
    }
    process {
        # The command's own parameters: inside -Action, $PSBoundParameters is the script block's.
        $bound = $PSBoundParameters
        Use-LinkedServerClient -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters -Action {
            param($client)
            try {
                $json = [LinkedServer.Interop.LinkedServerDesired]::FromParameters($LinkedServer, $InputObject, $bound).ToJson()
                # Only when asked to show or to confirm: a dry run first, whose T-SQL is shown.
                if ($WhatIfPreference -or $bound.ContainsKey('Confirm')) {
                    $plan = $client.Ensure($json, $planFlags)
                    $apply = $false
                    foreach ($server in $plan.Servers) {
                        if ($server.Action -eq 'unchanged') {
                            Write-Verbose "Linked server '$($server.Name)' on $client is as desired"
                        }
                        elseif ($PSCmdlet.ShouldProcess("$($server.Name) on $client", "$($server.Action) with this T-SQL:`n$($server.Sql)")) {
                            $apply = $true
                        }
                    }
                    if (-not $apply) {
                        return
                    }
                }
                Write-Verbose "Ensuring linked server '$LinkedServer' on $client"
                foreach ($server in $client.Ensure($json, $flags).Servers) {
                    Add-Member -InputObject $server -NotePropertyName SqlInstance -NotePropertyValue $client.SqlInstance -PassThru
                }
            }
            catch {
                Write-LinkedServerError -Cmdlet $PSCmdlet -ErrorRecord $_ -Target $LinkedServer
            }
        }
    }
}
