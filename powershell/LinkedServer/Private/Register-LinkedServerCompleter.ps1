function Register-LinkedServerCompleter {
    <#
    .SYNOPSIS
    Registers tab completion of linked-server names and sp_serveroption option names.
    .DESCRIPTION
    -LinkedServer completes from the linked servers of the -Connection already typed on the line
    (one lsv_list call; nothing without an open -Connection). -Option of Set-LinkedServerOption
    completes from the option names the interop knows. Names that need quoting are quoted.
    Called once by the module script.
    .EXAMPLE
    Register-LinkedServerCompleter
    #>
    [CmdletBinding()]
    param()
    $quote = {
        param([string]$text)
        if ($text -match '[\s''"`$;,(){}@#|&<>]') { "'" + $text.Replace("'", "''") + "'" } else { $text }
    }
    $complete = {
        param([string[]]$candidates, [string]$wordToComplete)
        $typed = $wordToComplete.Trim("'", '"')
        foreach ($candidate in $candidates) {
            if ($candidate.StartsWith($typed, [StringComparison]::OrdinalIgnoreCase)) {
                New-Object System.Management.Automation.CompletionResult -ArgumentList @(
                    (& $quote $candidate), $candidate, 'ParameterValue', $candidate)
            }
        }
    }.GetNewClosure()
    $linkedServers = {
        param($commandName, $parameterName, $wordToComplete, $commandAst, $fakeBoundParameters)
        $client = $fakeBoundParameters['Connection']
        if ($client -isnot [LinkedServer.Interop.LinkedServerClient] -or $client.IsClosed) {
            return
        }
        try {
            $names = @($client.List() | ForEach-Object { $_.Name })
        }
        catch {
            return
        }
        & $complete $names $wordToComplete
    }.GetNewClosure()
    $options = {
        param($commandName, $parameterName, $wordToComplete, $commandAst, $fakeBoundParameters)
        # Every option parameter present once gives every option name, in the interop's order.
        $all = New-Object 'System.Collections.Generic.Dictionary[string, object]'
        foreach ($parameter in [LinkedServer.Interop.LinkedServerOptions]::ParameterNames) {
            $all[$parameter] = $true
        }
        $names = @([LinkedServer.Interop.LinkedServerOptions]::FromParameters($all) | ForEach-Object { $_.Key })
        & $complete $names $wordToComplete
    }.GetNewClosure()
    $commands = @('Get-LinkedServer', 'Remove-LinkedServer', 'Add-LinkedServerLogin', 'Remove-LinkedServerLogin',
        'Set-LinkedServerOption', 'Test-LinkedServer')
    Register-ArgumentCompleter -CommandName $commands -ParameterName LinkedServer -ScriptBlock $linkedServers
    Register-ArgumentCompleter -CommandName Set-LinkedServerOption -ParameterName Option -ScriptBlock $options
}
