function Export-LinkedServer {
    <#
    .SYNOPSIS
    Writes linked servers as a T-SQL script that re-creates them, options and login mappings included.
    .DESCRIPTION
    Asks the linkedsrv library for a script (lsv_export) that re-creates one linked server or all
    of them. Every statement is guarded by a check of the catalog, so running the script again
    changes nothing and running it on another instance reproduces the links. Passwords are never
    written (SQL Server cannot reveal them) and neither are provider strings: each is a variable
    declared at the top of the script and marked FILL IN. Without -Path the script goes to the
    pipeline as one string (one per linked server piped in).
    .PARAMETER LinkedServer
    The linked server to export; omit it to export every linked server.
    .PARAMETER Path
    Write the script to this file (UTF-8, without BOM) instead of the pipeline; the scripts of
    further linked servers piped in are appended.
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
    Export-LinkedServer -SqlInstance SQL01 -Path .\linked-servers.sql

    Saves every linked server of SQL01 as a re-runnable script.
    .EXAMPLE
    Get-LinkedServer -Connection $mgmt | Where-Object RpcOut | Export-LinkedServer
    #>
    [CmdletBinding(SupportsShouldProcess, DefaultParameterSetName = 'Connection')]
    [OutputType([string])]
    param(
        [Parameter(Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Name')]
        [string]$LinkedServer,
        [string]$Path,
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
        # Pipeline input after the first appends to the file the first one wrote.
        $file = @{ Written = $false }
    }
    process {
        Use-LinkedServerClient -Cmdlet $PSCmdlet -BoundParameters $PSBoundParameters -Action {
            param($client)
            try {
                Write-Verbose "Exporting linked server '$LinkedServer' from $client"
                $script = $client.Export($LinkedServer)
                if (-not $Path) {
                    $script
                }
                elseif ($PSCmdlet.ShouldProcess($Path, 'Write the linked server script')) {
                    $full = $PSCmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path)
                    $utf8 = New-Object System.Text.UTF8Encoding $false
                    if ($file.Written) {
                        [System.IO.File]::AppendAllText($full, "`n" + $script, $utf8)
                    }
                    else {
                        [System.IO.File]::WriteAllText($full, $script, $utf8)
                        $file.Written = $true
                    }
                }
            }
            catch {
                Write-LinkedServerError -Cmdlet $PSCmdlet -ErrorRecord $_ -Target $LinkedServer
            }
        }
    }
}
