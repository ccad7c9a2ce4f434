function Get-LinkedServerCompletion {
    <#
    .SYNOPSIS
    Outputs the CompletionResults for a linked-server name or an sp_serveroption option name.
    .DESCRIPTION
    With -OptionNames, the option names of the interop's table. Otherwise the linked servers of the
    -Connection in -BoundParameters (one lsv_list call), or of each -SqlInstance there, connected
    with the -SqlCredential, -Encrypt and -TrustServerCertificate typed on the line and closed
    again right away. Candidates start with the typed text (case-insensitive); names that need
    quoting are quoted. Any failure (no connection yet, a refused login) completes nothing.
    .PARAMETER WordToComplete
    The text typed so far, quotes included.
    .PARAMETER BoundParameters
    The completer's $fakeBoundParameters: what is on the command line so far.
    .PARAMETER OptionNames
    Complete sp_serveroption option names instead of linked servers.
    .EXAMPLE
    Get-LinkedServerCompletion -WordToComplete 'rp' -OptionNames
    #>
    [CmdletBinding()]
    [OutputType([System.Management.Automation.CompletionResult])]
    param(
        [string]$WordToComplete,
        [System.Collections.IDictionary]$BoundParameters,
        [switch]$OptionNames
    )
    $names = @()
    if ($OptionNames) {
        # Every option parameter present once gives every option name, in the interop's order.
        $all = New-Object 'System.Collections.Generic.Dictionary[string, object]'
        foreach ($parameter in [LinkedServer.Interop.LinkedServerOptions]::ParameterNames) {
            $all[$parameter] = $true
        }
        $names = @([LinkedServer.Interop.LinkedServerOptions]::FromParameters($all) | ForEach-Object { $_.Key })
    }
    elseif ($BoundParameters['Connection'] -is [LinkedServer.Interop.LinkedServerClient]) {
        try {
            $names = @($BoundParameters['Connection'].List() | ForEach-Object { $_.Name })
        }
        catch {
            return
        }
    }
    elseif ($BoundParameters['SqlInstance']) {
        $connect = @{}
        if ($BoundParameters['SqlCredential'] -is [PSCredential]) { $connect.SqlCredential = $BoundParameters['SqlCredential'] }
        if ($BoundParameters['Encrypt']) { $connect.Encrypt = $BoundParameters['Encrypt'] }
        if ($BoundParameters['TrustServerCertificate']) { $connect.TrustServerCertificate = $true }
        $names = foreach ($instance in @($BoundParameters['SqlInstance'])) {
            $client = $null
            try {
                $client = Open-LinkedServerClient -SqlInstance $instance @connect
                $client.List() | ForEach-Object { $_.Name }
            }
            catch {
                continue
            }
            finally {
                if ($null -ne $client) { $client.Dispose() }
            }
        }
    }
    $typed = $WordToComplete.Trim("'", '"')
    foreach ($name in @($names | Sort-Object -Unique)) {
        if (-not $name.StartsWith($typed, [StringComparison]::OrdinalIgnoreCase)) { continue }
        $text = if ($name -match '[\s''"`$;,(){}@#|&<>]') { "'" + $name.Replace("'", "''") + "'" } else { $name }
        New-Object System.Management.Automation.CompletionResult -ArgumentList @($text, $name, 'ParameterValue', $name)
    }
}
