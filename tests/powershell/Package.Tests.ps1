# The module as a user installs it: Install-PSResource from the repository scripts/package.sh wrote.
BeforeAll {
    Import-Module LinkedServer -Force
    $module = Get-Module LinkedServer
    $crateVersion = (Select-String -Path (Join-Path $env:LSV_TEST_ROOT 'Cargo.toml') -Pattern '^version = "([^"]+)"' |
        Select-Object -First 1).Matches[0].Groups[1].Value
}

Describe 'the installed package' {
    It 'is imported from the Install-PSResource location, not the source tree' {
        $module.ModuleBase | Should -BeLike "$HOME/.local/share/powershell/Modules/LinkedServer/*"
        $module.ModuleBase | Should -Not -BeLike "$env:LSV_TEST_ROOT/powershell/*"
    }
    It 'has the crate version' {
        $module.Version.ToString() | Should -Be $crateVersion
        (Get-InstalledPSResource -Name LinkedServer).Version.ToString() | Should -Be $crateVersion
    }
    It 'ships the native library for linux-x64 and win-x64 and the precompiled interop' {
        Join-Path $module.ModuleBase 'linux-x64/liblinkedsrv.so' | Should -Exist
        $dll = Join-Path $module.ModuleBase 'win-x64/linkedsrv.dll'
        $dll | Should -Exist
        $header = [System.IO.File]::ReadAllBytes($dll)[0..1]
        [char]$header[0] + [char]$header[1] | Should -Be 'MZ'
        Join-Path $module.ModuleBase 'LinkedServer.Interop.dll' | Should -Exist
        [LinkedServer.Interop.LinkedServerClient].Assembly.Location | Should -Be (Join-Path $module.ModuleBase 'LinkedServer.Interop.dll')
    }
    It 'exports exactly the eleven commands' {
        @($module.ExportedCommands.Keys | Sort-Object) | Should -Be @('Add-LinkedServerLogin', 'Connect-LinkedServerInstance',
            'Export-LinkedServer', 'Get-LinkedServer', 'New-LinkedServer', 'Remove-LinkedServer', 'Remove-LinkedServerLogin',
            'Set-LinkedServer', 'Set-LinkedServerOption', 'Sync-BizTalkLinkedServer', 'Test-LinkedServer')
    }
}

Describe 'the module imported from the source tree' {
    It 'finds the library cargo built' {
        $script = "Import-Module '$env:LSV_TEST_ROOT/powershell/LinkedServer/LinkedServer.psd1'; " +
            '(& (Get-Module LinkedServer) { $script:SourceTreeLibrary })'
        $found = & $env:LSV_TEST_PWSH -NoProfile -NonInteractive -Command $script
        $LASTEXITCODE | Should -Be 0
        $found | Should -BeIn @("$env:LSV_TEST_TARGET/release/liblinkedsrv.so", "$env:LSV_TEST_TARGET/debug/liblinkedsrv.so")
    }
    It 'says in one line what to build and where when cargo has not built it' {
        $copy = Join-Path $env:LSV_TEST_WORK 'unbuilt'
        New-Item -ItemType Directory -Path "$copy/powershell" -Force | Out-Null
        Copy-Item -Recurse "$env:LSV_TEST_ROOT/powershell/LinkedServer" "$copy/powershell/"
        Set-Content -Path "$copy/Cargo.toml" -Value '[package]'
        $output = & $env:LSV_TEST_PWSH -NoProfile -NonInteractive -Command "Import-Module '$copy/powershell/LinkedServer/LinkedServer.psd1' 3>&1"
        $warnings = @($output | Where-Object { "$_" -like '*cargo build*' })
        $warnings.Count | Should -Be 1
        "$($warnings[0])" | Should -BeLike "*cargo build --release*$copy*target/release/liblinkedsrv.so*"
    }
}
