function Resolve-LinkedServerClient {
    <#
    .SYNOPSIS
    Returns the client a command works with: its -Connection, or the one it opened for -SqlInstance.
    .DESCRIPTION
    In the Connection parameter set, returns the calling command's -Connection (bound directly or
    from the pipeline). Otherwise the first call passes -SqlInstance or -ConnectionString,
    -Credential, -Encrypt and -TrustServerCertificate of the calling command to
    Connect-LinkedServerInstance and keeps the client in $State.Opened; later calls (for the next
    pipeline input) return that same client. Close-LinkedServerClient disposes it in the command's
    end block. Outputs the client and nothing else.
    .PARAMETER ParameterSetName
    The calling command's $PSCmdlet.ParameterSetName.
    .PARAMETER BoundParameters
    The calling command's $PSBoundParameters.
    .PARAMETER State
    The calling command's @{ Opened = $null; Emitted = $false }, created in its begin block.
    .EXAMPLE
    $client = Resolve-LinkedServerClient -ParameterSetName $PSCmdlet.ParameterSetName -BoundParameters $PSBoundParameters -State $state
    #>
    [CmdletBinding()]
    [OutputType([LinkedServer.Interop.LinkedServerClient])]
    param(
        [Parameter(Mandatory)]
        [string]$ParameterSetName,
        [Parameter(Mandatory)]
        [System.Collections.IDictionary]$BoundParameters,
        [Parameter(Mandatory)]
        [hashtable]$State
    )
    if ($ParameterSetName -eq 'Connection') {
        return $BoundParameters['Connection']
    }
    if ($null -eq $State.Opened) {
        $connect = @{}
        foreach ($key in 'SqlInstance', 'ConnectionString', 'Credential', 'Encrypt', 'TrustServerCertificate') {
            if ($BoundParameters.ContainsKey($key)) {
                $connect[$key] = $BoundParameters[$key]
            }
        }
        $State.Opened = Connect-LinkedServerInstance @connect
    }
    return $State.Opened
}
