@{
    RootModule           = 'LinkedServer.psm1'
    ModuleVersion        = '0.1.0'
    GUID                 = '5d0f4b8e-8c61-4f51-9a3e-2f7c4b9d1e6a'
    Author               = 'linkedsrv contributors'
    Description          = 'Create, inspect, map logins on, set options of and test SQL Server linked servers through the linkedsrv native library.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Desktop', 'Core')
    TypesToProcess       = @('LinkedServer.Types.ps1xml')
    FormatsToProcess     = @('LinkedServer.Format.ps1xml')
    FunctionsToExport    = @(
        'Connect-LinkedServerInstance',
        'New-LinkedServer',
        'Remove-LinkedServer',
        'Get-LinkedServer',
        'Add-LinkedServerLogin',
        'Remove-LinkedServerLogin',
        'Set-LinkedServerOption',
        'Test-LinkedServer',
        'Set-LinkedServer',
        'Export-LinkedServer',
        'Sync-BizTalkLinkedServer'
    )
    CmdletsToExport      = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags = @('SqlServer', 'LinkedServer', 'BizTalk')
        }
    }
}
