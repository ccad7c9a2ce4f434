function Add-LinkedServerLogin {
    <#
    .SYNOPSIS
    Maps a local login (or every login) to credentials on a linked server.
    .DESCRIPTION
    Calls sp_addlinkedsrvlogin through the linkedsrv library, replacing any existing mapping of the
    same local login. Give exactly one of -UseSelf, -RemoteCredential or -NoSecurityContext. The
    remote password stays in a SecureString and is copied to unmanaged memory only for the call,
    then zeroed; it is sent as an RPC parameter over the encrypted connection and never shown.
    .PARAMETER LinkedServer
    The linked server (alias Name). Get-LinkedServer output binds it from the pipeline.
    .PARAMETER LocalLogin
    The local login to map. Omit to set the mapping for every login.
    .PARAMETER UseSelf
    Connect to the linked server with the caller's own credentials.
    .PARAMETER RemoteCredential
    Connect to the linked server with this SQL login and password.
    .PARAMETER NoSecurityContext
    Connect to the linked server without a login (useself FALSE, no remote user).
    .PARAMETER PassThru
    Output the linked server after the change, with its login mappings.
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
    Add-LinkedServerLogin -Connection $mgmt -LinkedServer 'SQL02\BTS' -UseSelf

    Every login connects as itself (the mapping the BizTalk backup job's identity needs).
    .EXAMPLE
    Add-LinkedServerLogin -Connection $mgmt -LinkedServer REPORTS -LocalLogin 'CONTOSO\svc-report' -RemoteCredential (Get-Credential reportreader)
    .EXAMPLE
    Get-LinkedServer -Connection $mgmt -LinkedServer REPORTS | Add-LinkedServerLogin -LocalLogin app -NoSecurityContext -WhatIf
    #>
    [CmdletBinding(SupportsShouldProcess, DefaultParameterSetName = 'Connection')]
    [OutputType([LinkedServer.Interop.LinkedServerInfo])]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Name')]
        [string]$LinkedServer,
        [string]$LocalLogin,
        [switch]$UseSelf,
        [PSCredential]$RemoteCredential,
        [switch]$NoSecurityContext,
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
        $modes = @($UseSelf.IsPresent, [bool]$RemoteCredential, $NoSecurityContext.IsPresent) -eq $true
        if ($modes.Count -ne 1) {
            $PSCmdlet.ThrowTerminatingError((New-Object System.Management.Automation.ErrorRecord -ArgumentList @(
                (New-Object System.ArgumentException 'Give exactly one of -UseSelf, -RemoteCredential or -NoSecurityContext.'),
                'LinkedServer.InvalidArgument', [System.Management.Automation.ErrorCategory]::InvalidArgument, $null)))
        }
    }
    process {
        Use-LinkedServerClient -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters -Action {
            param($client)
            # An omitted -LocalLogin ('' in a [string] parameter) means every login (NULL).
            $local = if ($LocalLogin) { $LocalLogin } else { $null }
            $who = if ($local) { "login '$local'" } else { 'every login' }
            $remoteUser = $null
            $remotePassword = $null
            if ($RemoteCredential) {
                $remoteUser = $RemoteCredential.UserName
                $remotePassword = $RemoteCredential.Password
                $target = "remote user '$remoteUser' (password not shown)"
            }
            elseif ($UseSelf) {
                $target = 'its own credentials'
            }
            else {
                $target = 'no security context'
            }
            try {
                Write-Verbose "Mapping $who on linked server '$LinkedServer' ($client) to $target"
                if ($PSCmdlet.ShouldProcess("$LinkedServer on $client", "Map $who to $target")) {
                    $client.MapLogin($LinkedServer, $local, $UseSelf.IsPresent, $remoteUser, $remotePassword)
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
