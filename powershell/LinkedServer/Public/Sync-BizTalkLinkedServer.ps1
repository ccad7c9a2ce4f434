function Sync-BizTalkLinkedServer {
    <#
    .SYNOPSIS
    The Backup BizTalk Server pre-step: a working linked server to every instance the job backs up.
    .DESCRIPTION
    Reads BizTalkMgmtDb.dbo.admv_BackupDatabases through the linkedsrv library
    (lsv_biztalk_sync) and, for every SQL Server instance in it other than this one, ensures a
    linked server named as stored there with RPC and RPC Out on and the job's login mapped to
    itself, all in one write; then tests each link with sp_testlinkedserver and the job's own
    first remote call (sp_GetServerName through the link). Outputs one result per server: Name,
    Databases, Action, Ok, Stage (configure, network, login or rpc), Number, Message and
    RemoteServerName. A server that fails is also written as a non-terminating error, so a SQL
    Agent job step fails while every other server is still handled. -WhatIf plans and shows the
    T-SQL without changing or testing anything.
    .PARAMETER Database
    The BizTalk management database (default BizTalkMgmtDb).
    .PARAMETER JobLogin
    The login the backup job runs as, mapped to itself (default: the login this command connects
    with, which is the job's own inside a SQL Agent job step).
    .PARAMETER DropGlobalMapping
    Also drop the mapping for every login, as the BizTalk documentation advises.
    .PARAMETER SkipVerify
    Do not test the links.
    .PARAMETER AllowRecreate
    Re-create an existing link whose definition differs (for example an alias) as a plain
    'SQL Server' link; without it such a link keeps its definition.
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
    Sync-BizTalkLinkedServer -SqlInstance $env:COMPUTERNAME -DropGlobalMapping

    As the first step of the Backup BizTalk Server job: links, RPC Out and the job's mapping for
    every instance the job backs up, each one tested.
    .EXAMPLE
    Sync-BizTalkLinkedServer -Connection $mgmt -WhatIf
    #>
    [CmdletBinding(SupportsShouldProcess, DefaultParameterSetName = 'Connection')]
    [OutputType([LinkedServer.Interop.LinkedServerSyncResult])]
    param(
        [string]$Database,
        [string]$JobLogin,
        [switch]$DropGlobalMapping,
        [switch]$SkipVerify,
        [switch]$AllowRecreate,
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
        $options = @{ drop_global_mapping = [bool]$DropGlobalMapping; verify = -not $SkipVerify }
        if ($Database) { $options.database = $Database }
        if ($JobLogin) { $options.job_login = $JobLogin }
        $optionsJson = ConvertTo-Json -InputObject $options -Compress
        Use-LinkedServerClient -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters -Action {
            param($client)
            $flags = [LinkedServer.Interop.LinkedServerEnsureFlags]'None'
            if ($AllowRecreate) { $flags = $flags -bor [LinkedServer.Interop.LinkedServerEnsureFlags]'AllowRecreate' }
            $apply = $PSCmdlet.ShouldProcess("$client", 'Ensure and test the linked servers of the BizTalk backup job')
            if (-not $apply) { $flags = $flags -bor [LinkedServer.Interop.LinkedServerEnsureFlags]'DryRun' }
            try {
                $report = $client.SyncBizTalk($optionsJson, $flags)
            }
            catch {
                Write-LinkedServerError -Cmdlet $PSCmdlet -ErrorRecord $_ -Target "$client"
                return
            }
            foreach ($server in $report.Servers) {
                if (-not $apply -and $server.Sql) {
                    Write-Information "T-SQL for $($server.Name) on $($client):`n$($server.Sql)" -InformationAction Continue
                }
                if (-not $server.Ok) {
                    $exception = New-Object System.Exception ("Linked server '{0}' on {1} failed at stage {2}: {3}" -f $server.Name, $client, $server.Stage, $server.Message)
                    $PSCmdlet.WriteError((New-Object System.Management.Automation.ErrorRecord -ArgumentList @(
                        $exception, "LinkedServer.BizTalk.$($server.Stage)", [System.Management.Automation.ErrorCategory]::ConnectionError, $server.Name)))
                }
                Add-Member -InputObject $server -NotePropertyName SqlInstance -NotePropertyValue $client.SqlInstance -PassThru
            }
        }
    }
}
