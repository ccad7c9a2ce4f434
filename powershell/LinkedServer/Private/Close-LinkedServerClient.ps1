function Close-LinkedServerClient {
    <#
    .SYNOPSIS
    Disposes the client a command opened for -SqlInstance, unless its output still uses it.
    .DESCRIPTION
    Called from the end block of a command that used Resolve-LinkedServerClient. Disposes
    $State.Opened unless $State.Emitted says the command output an object that carries the client
    (a LinkedServerInfo, for instance), which must stay usable further down the pipeline; such a
    client is released when those objects are no longer referenced. A -Connection client is never
    in $State and is left to its owner. Outputs nothing.
    .PARAMETER State
    The calling command's @{ Opened = ...; Emitted = ... } that Resolve-LinkedServerClient filled.
    .EXAMPLE
    end { Close-LinkedServerClient -State $state }
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [hashtable]$State
    )
    if ($null -ne $State.Opened -and -not $State.Emitted) {
        $State.Opened.Dispose()
    }
    $State.Opened = $null
}
