# Called by tests/powershell/run.sh in a private profile: installs LinkedServer from the local
# repository the way a user would, then runs every *.Tests.ps1 here with Pester 6.2.0.
$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name LinkedServerLocal -Uri $env:LSV_TEST_REPOSITORY -Trusted
Install-PSResource -Name LinkedServer -Repository LinkedServerLocal -Scope CurrentUser -Reinstall
$installed = Get-InstalledPSResource -Name LinkedServer
"installed LinkedServer $($installed.Version) into $($installed.InstalledLocation)"

Import-Module $env:LSV_TEST_PESTER
$configuration = New-PesterConfiguration
# LSV_PESTER_ONLY=Name.Tests.ps1 runs one suite while iterating; the test command runs them all.
$configuration.Run.Path = if ($env:LSV_PESTER_ONLY) { Join-Path $PSScriptRoot $env:LSV_PESTER_ONLY } else { $PSScriptRoot }
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Detailed'
$configuration.Output.RenderMode = 'Plaintext'
$result = Invoke-Pester -Configuration $configuration
# The plain closing line CI reads; a failed container (a script that did not load) fails too.
"pester: $($result.PassedCount) passed, $($result.FailedCount) failed"
if ($result.Result -ne 'Passed' -or $result.FailedContainersCount -gt 0) {
    exit 1
}
exit 0
