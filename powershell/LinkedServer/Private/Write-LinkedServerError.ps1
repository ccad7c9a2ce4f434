function Write-LinkedServerError {
    <#
    .SYNOPSIS
    Reports a failed library call as an ErrorRecord with a category and the SQL number in its id.
    .DESCRIPTION
    Finds the LinkedServerException (or ArgumentException) behind an error record and writes it
    through the calling cmdlet, as a non-terminating error unless -Terminating is given. Any other
    exception is rethrown as a terminating error unchanged.
    .PARAMETER Cmdlet
    The calling command's $PSCmdlet.
    .PARAMETER ErrorRecord
    The caught error ($_).
    .PARAMETER Target
    The object the command worked on (a linked server or instance name).
    .PARAMETER Terminating
    Stop the calling command instead of continuing with the next input.
    .EXAMPLE
    try { $client.Drop($Name, $false) } catch { Write-LinkedServerError -Cmdlet $PSCmdlet -ErrorRecord $_ -Target $Name }
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [System.Management.Automation.PSCmdlet]$Cmdlet,
        [Parameter(Mandatory)]
        [System.Management.Automation.ErrorRecord]$ErrorRecord,
        [object]$Target,
        [switch]$Terminating
    )
    # .NET method calls wrap the exception in a MethodInvocationException.
    $exception = $ErrorRecord.Exception
    while ($null -ne $exception -and $exception -isnot [LinkedServer.Interop.LinkedServerException] -and
        $exception -isnot [System.ArgumentException]) {
        $exception = $exception.InnerException
    }
    if ($null -eq $exception) {
        $Cmdlet.ThrowTerminatingError($ErrorRecord)
    }
    if ($exception -is [LinkedServer.Interop.LinkedServerException]) {
        $record = New-Object System.Management.Automation.ErrorRecord -ArgumentList @(
            $exception, $exception.ErrorId, [System.Management.Automation.ErrorCategory]$exception.ErrorCategory, $Target)
    }
    else {
        $record = New-Object System.Management.Automation.ErrorRecord -ArgumentList @(
            $exception, 'LinkedServer.InvalidArgument', [System.Management.Automation.ErrorCategory]::InvalidArgument, $Target)
    }
    if ($Terminating) {
        $Cmdlet.ThrowTerminatingError($record)
    }
    $Cmdlet.WriteError($record)
}
