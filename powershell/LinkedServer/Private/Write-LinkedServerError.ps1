function Write-LinkedServerError {
    <#
    .SYNOPSIS
    Reports a failed library call as an ErrorRecord with a category and the SQL number in its id.
    .DESCRIPTION
    Finds the exception behind an error record and writes it through the calling cmdlet, as a
    non-terminating error unless -Terminating is given: a LinkedServerException with its own id
    and category; an ArgumentException as LinkedServer.InvalidArgument (InvalidArgument); an
    ObjectDisposedException (a call on a closed client) as LinkedServer.ConnectionClosed
    (InvalidOperation); an OperationCanceledException (a call the stopped pipeline cancelled) as
    LinkedServer.Cancelled (OperationStopped); a failure to load the native library (DllNotFoundException,
    EntryPointNotFoundException, NotSupportedException for an ABI mismatch, BadImageFormatException)
    as LinkedServer.Library (ResourceUnavailable). Any other exception is rethrown as a terminating
    error unchanged.
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
    # Exceptions that are not LinkedServerExceptions but still have a known meaning here.
    $known = @(
        @{ Type = [System.ObjectDisposedException]; Id = 'LinkedServer.ConnectionClosed'; Category = 'InvalidOperation' },
        @{ Type = [System.OperationCanceledException]; Id = 'LinkedServer.Cancelled'; Category = 'OperationStopped' },
        @{ Type = [System.ArgumentException]; Id = 'LinkedServer.InvalidArgument'; Category = 'InvalidArgument' },
        @{ Type = [System.DllNotFoundException]; Id = 'LinkedServer.Library'; Category = 'ResourceUnavailable' },
        @{ Type = [System.EntryPointNotFoundException]; Id = 'LinkedServer.Library'; Category = 'ResourceUnavailable' },
        @{ Type = [System.NotSupportedException]; Id = 'LinkedServer.Library'; Category = 'ResourceUnavailable' },
        @{ Type = [System.BadImageFormatException]; Id = 'LinkedServer.Library'; Category = 'ResourceUnavailable' }
    )
    # .NET method calls wrap the exception in a MethodInvocationException: look inside.
    $exception = $ErrorRecord.Exception
    $errorId = $null
    while ($null -ne $exception) {
        if ($exception -is [LinkedServer.Interop.LinkedServerException]) {
            $errorId = $exception.ErrorId
            $category = $exception.ErrorCategory
        }
        else {
            foreach ($entry in $known) {
                if ($exception -is $entry.Type) {
                    $errorId = $entry.Id
                    $category = $entry.Category
                    break
                }
            }
        }
        if ($null -ne $errorId) {
            break
        }
        $exception = $exception.InnerException
    }
    if ($null -eq $errorId) {
        $Cmdlet.ThrowTerminatingError($ErrorRecord)
    }
    $record = New-Object System.Management.Automation.ErrorRecord -ArgumentList @(
        $exception, $errorId, [System.Management.Automation.ErrorCategory]$category, $Target)
    # PowerShell has already put the caught .NET failure ($ErrorRecord, with no id of ours) into
    # $Error and into the -ErrorVariable of the command: drop it there, so both hold one record per
    # failure, the one written below. The -ErrorVariable list is only reachable through the
    # command runtime's private field; where a PowerShell version has none, the extra entry stays.
    $lists = @(, $global:Error)
    $field = $Cmdlet.CommandRuntime.GetType().GetField('_errorVarList', [System.Reflection.BindingFlags]'NonPublic, Instance')
    if ($null -ne $field -and $null -ne $field.GetValue($Cmdlet.CommandRuntime)) {
        $lists += , $field.GetValue($Cmdlet.CommandRuntime)
    }
    foreach ($list in $lists) {
        foreach ($entry in @($list)) {
            $failure = if ($entry -is [System.Management.Automation.ErrorRecord]) { $entry.Exception } else { $entry }
            for ($inner = $failure; $null -ne $inner; $inner = $inner.InnerException) {
                if ([object]::ReferenceEquals($inner, $exception)) {
                    $list.Remove($entry)
                    break
                }
            }
        }
    }
    if ($Terminating) {
        $Cmdlet.ThrowTerminatingError($record)
    }
    $Cmdlet.WriteError($record)
}
