function Register-LinkedServerCompleter {
    <#
    .SYNOPSIS
    Registers tab completion of linked-server names and sp_serveroption option names.
    .DESCRIPTION
    -LinkedServer completes from the linked servers of the -Connection, or of the -SqlInstance
    (with -SqlCredential, -Encrypt, -TrustServerCertificate), already typed on the line; -Option of
    Set-LinkedServerOption completes from the option names the interop knows. Get-LinkedServerCompletion
    does the work. Called once by the module script.
    .EXAMPLE
    Register-LinkedServerCompleter
    #>
    [CmdletBinding()]
    param()
    # Script blocks of the module: they run in its scope, so they see its private functions.
    $linkedServers = {
        param($commandName, $parameterName, $wordToComplete, $commandAst, $fakeBoundParameters)
        Get-LinkedServerCompletion -WordToComplete $wordToComplete -BoundParameters $fakeBoundParameters
    }
    $options = {
        param($commandName, $parameterName, $wordToComplete, $commandAst, $fakeBoundParameters)
        Get-LinkedServerCompletion -WordToComplete $wordToComplete -OptionNames
    }
    $commands = @('Get-LinkedServer', 'Remove-LinkedServer', 'Add-LinkedServerLogin', 'Remove-LinkedServerLogin',
        'Set-LinkedServerOption', 'Test-LinkedServer')
    Register-ArgumentCompleter -CommandName $commands -ParameterName LinkedServer -ScriptBlock $linkedServers
    Register-ArgumentCompleter -CommandName Set-LinkedServerOption -ParameterName Option -ScriptBlock $options
}
