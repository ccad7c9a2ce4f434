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
    A client from Connect-LinkedServerInstance.
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
        [Parameter(Mandatory, ParameterSetName = 'Connection')]
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
        $options = @{ drop_global_mapping = [bool]$DropGlobalMapping; verify = -not $SkipVerify }
        if ($Database) { $options.database = $Database }
        if ($JobLogin) { $options.job_login = $JobLogin }
        $flags = [LinkedServer.Interop.LinkedServerEnsureFlags]'None'
        if ($AllowRecreate) { $flags = $flags -bor [LinkedServer.Interop.LinkedServerEnsureFlags]'AllowRecreate' }
        $apply = $PSCmdlet.ShouldProcess("$client", 'Ensure and test the linked servers of the BizTalk backup job')
        if (-not $apply) { $flags = $flags -bor [LinkedServer.Interop.LinkedServerEnsureFlags]'DryRun' }
        try {
            $report = $client.SyncBizTalk((ConvertTo-Json -InputObject $options -Compress), $flags)
        }
        catch {
            Write-LinkedServerError -Cmdlet $PSCmdlet -ErrorRecord $_ -Target "$client"
            return
        }
        foreach ($server in $report.Servers) {
            if (-not $apply -and $server.Sql) {
                Write-Information "T-SQL for $($server.Name):`n$($server.Sql)" -InformationAction Continue
            }
            if (-not $server.Ok) {
                $exception = New-Object System.Exception ("Linked server '{0}' failed at stage {1}: {2}" -f $server.Name, $server.Stage, $server.Message)
                $PSCmdlet.WriteError((New-Object System.Management.Automation.ErrorRecord -ArgumentList @(
                    $exception, "LinkedServer.BizTalk.$($server.Stage)", [System.Management.Automation.ErrorCategory]::ConnectionError, $server.Name)))
            }
            $server
        }
    }
    end {
        Close-LinkedServerClient -State $state
    }
}
