function Open-LinkedServerConnection {
    <#
    .SYNOPSIS
    Opens the connection a command uses when it was given -SqlInstance or -ConnectionString.
    .DESCRIPTION
    Passes -SqlInstance or -ConnectionString, -Credential, -Encrypt and -TrustServerCertificate of
    the calling command to Connect-LinkedServerInstance. The caller owns the client.
    .PARAMETER BoundParameters
    The calling command's $PSBoundParameters.
    .EXAMPLE
    $opened = Open-LinkedServerConnection -BoundParameters $PSBoundParameters
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [System.Collections.IDictionary]$BoundParameters
    )
    $connect = @{}
    foreach ($key in 'SqlInstance', 'ConnectionString', 'Credential', 'Encrypt', 'TrustServerCertificate') {
        if ($BoundParameters.ContainsKey($key)) {
            $connect[$key] = $BoundParameters[$key]
        }
    }
    Connect-LinkedServerInstance @connect
}
