function ConvertTo-LinkedServerParameterValue {
    <#
    .SYNOPSIS
    Copies a command's bound parameters for the interop, with each switch as a plain bool.
    .DESCRIPTION
    LinkedServerSpec.FromParameters and LinkedServerOptions.FromParameters read option values as
    bool, integer or string; the option parameters that are switches (-RpcOut, -RpcOut:$false)
    arrive as SwitchParameter. Outputs one Dictionary[string, object].
    .PARAMETER BoundParameters
    The calling command's $PSBoundParameters.
    .EXAMPLE
    $spec = [LinkedServer.Interop.LinkedServerSpec]::FromParameters((ConvertTo-LinkedServerParameterValue -BoundParameters $PSBoundParameters))
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [System.Collections.IDictionary]$BoundParameters
    )
    $values = New-Object 'System.Collections.Generic.Dictionary[string, object]'
    foreach ($key in $BoundParameters.Keys) {
        $value = $BoundParameters[$key]
        if ($value -is [System.Management.Automation.SwitchParameter]) {
            $value = $value.IsPresent
        }
        $values[$key] = $value
    }
    , $values
}
