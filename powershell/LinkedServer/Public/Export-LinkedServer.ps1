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
    pipeline as one string.
    .PARAMETER LinkedServer
    The linked server to export; omit it to export every linked server.
    .PARAMETER Path
    Write the script to this file (UTF-8) instead of the pipeline.
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
        $scripts = New-Object System.Collections.Generic.List[string]
        $client = $null
    }
    process {
        $client = Resolve-LinkedServerClient -ParameterSetName $PSCmdlet.ParameterSetName -BoundParameters $PSBoundParameters -State $state
        try {
            Write-Verbose "Exporting linked server '$LinkedServer' from $client"
            $scripts.Add($client.Export($LinkedServer))
        }
        catch {
            Write-LinkedServerError -Cmdlet $PSCmdlet -ErrorRecord $_ -Target $LinkedServer
        }
    }
    end {
        try {
            if ($scripts.Count -gt 0) {
                $script = $scripts -join "`n"
                if (-not $Path) {
                    $script
                }
                elseif ($PSCmdlet.ShouldProcess($Path, 'Write the linked server script')) {
                    $full = $PSCmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path)
                    [System.IO.File]::WriteAllText($full, $script, (New-Object System.Text.UTF8Encoding $false))
                }
            }
        }
        finally {
            Close-LinkedServerClient -State $state
        }
    }
}
