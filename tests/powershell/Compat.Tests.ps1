# What can be proved here about Windows PowerShell 5.1, which cannot run on this machine: every
# module file (and the SQL Agent job step, which runs under 5.1) parses with PowerShell's own
# parser and uses no syntax newer than 5.1; the interop compiles at C# 5 with warnings as errors,
# as 5.1's Add-Type compiles it. Also prints Import-Module figures: Add-Type of the C# source
# against the precompiled assembly the package ships (figures only, nothing asserted on them).
BeforeDiscovery {
    $moduleFiles = Get-ChildItem -Recurse -File -Path (Join-Path $env:LSV_TEST_ROOT 'powershell/LinkedServer') -Include '*.ps1', '*.psm1', '*.psd1' |
        ForEach-Object { @{ File = $_.FullName; Name = $_.FullName.Substring($env:LSV_TEST_ROOT.Length + 1) } }
}

BeforeAll {
    # Syntax PowerShell 6 and 7 added, as the AST shows it.
    function Get-NewerSyntax([System.Management.Automation.Language.Ast]$Ast) {
        $Ast.FindAll({
                param($node)
                $type = $node.GetType().Name
                ($type -eq 'TernaryExpressionAst') -or ($type -eq 'PipelineChainAst') -or
                ($type -eq 'BinaryExpressionAst' -and "$($node.Operator)" -eq 'QuestionQuestion') -or
                ($type -eq 'AssignmentStatementAst' -and "$($node.Operator)" -eq 'QuestionQuestionEquals') -or
                ($node.PSObject.Properties['NullConditional'] -and $node.NullConditional) -or
                ($type -eq 'ScriptBlockAst' -and $null -ne $node.CleanBlock)
            }, $true) | ForEach-Object { '{0} at line {1}: {2}' -f $_.GetType().Name, $_.Extent.StartLineNumber, $_.Extent.Text }
    }
}

Describe 'Windows PowerShell 5.1 syntax' {
    It '<Name> parses and uses nothing newer than 5.1' -ForEach $moduleFiles {
        $tokens = $null
        $errors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseFile($File, [ref]$tokens, [ref]$errors)
        $errors | Should -BeNullOrEmpty
        Get-NewerSyntax $ast | Should -BeNullOrEmpty
    }
    It 'the check finds each newer construct it looks for' {
        foreach ($newer in '$a ? 1 : 2', '$a ?? 1', '$a ??= 1', '${a}?.b', 'a && b', 'a || b', 'function f { clean { } }') {
            $ast = [System.Management.Automation.Language.Parser]::ParseInput($newer, [ref]$null, [ref]$null)
            @(Get-NewerSyntax $ast).Count | Should -BeGreaterThan 0 -Because $newer
        }
    }
    It 'every help example of the installed commands parses and uses nothing newer than 5.1' {
        Import-Module LinkedServer -Force
        $examples = foreach ($command in (Get-Module LinkedServer).ExportedCommands.Keys) {
            (Get-Help $command).examples.example | ForEach-Object { @{ Command = $command; Code = $_.code } }
        }
        @($examples).Count | Should -BeGreaterOrEqual 16
        foreach ($example in $examples) {
            $errors = $null
            $ast = [System.Management.Automation.Language.Parser]::ParseInput($example.Code, [ref]$null, [ref]$errors)
            $errors | Should -BeNullOrEmpty -Because "$($example.Command): $($example.Code)"
            Get-NewerSyntax $ast | Should -BeNullOrEmpty
            foreach ($call in $ast.FindAll({ param($node) $node -is [System.Management.Automation.Language.CommandAst] }, $true)) {
                $name = $call.GetCommandName()
                if ($name -notlike '*-LinkedServer*') { continue }
                # Every parameter an example uses exists on the command it calls.
                $parameters = (Get-Command $name).Parameters
                foreach ($element in $call.CommandElements | Where-Object { $_ -is [System.Management.Automation.Language.CommandParameterAst] }) {
                    $known = $parameters.ContainsKey($element.ParameterName) -or
                        @($parameters.Values | Where-Object { $_.Aliases -contains $element.ParameterName }).Count -gt 0
                    $known | Should -BeTrue -Because "$name has -$($element.ParameterName) ($($example.Command) help)"
                }
            }
        }
    }
    It 'the SQL Agent job step of powershell/README.md parses and uses nothing newer than 5.1' {
        $readme = Get-Content -Raw -LiteralPath (Join-Path $env:LSV_TEST_ROOT 'powershell/README.md')
        $step = [regex]::Match($readme, '(?ms)^```powershell\r?\n(# Ensure linked servers for the Backup BizTalk Server job.*?)^```').Groups[1].Value
        $errors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseInput($step, [ref]$null, [ref]$errors)
        $errors | Should -BeNullOrEmpty
        Get-NewerSyntax $ast | Should -BeNullOrEmpty
    }
}

Describe 'the interop at the C# level of 5.1''s Add-Type' {
    It 'compiles with mcs -langversion:5 -warnaserror' {
        $out = Join-Path $env:LSV_TEST_WORK 'interop-cs5.dll'
        $output = & mcs -langversion:5 -warnaserror -target:library "-out:$out" (Join-Path $env:LSV_TEST_ROOT 'powershell/LinkedServer/LinkedServer.Interop.cs') 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($output -join "`n")
        $out | Should -Exist
    }
}

Describe 'Import-Module time' {
    It 'prints Add-Type of the source against the precompiled assembly' {
        $package = Join-Path $env:LSV_TEST_ROOT 'target/package/LinkedServer'
        $source = Join-Path $env:LSV_TEST_WORK 'timing/LinkedServer'
        New-Item -ItemType Directory -Path (Split-Path $source) -Force | Out-Null
        Copy-Item -Recurse $package $source
        Remove-Item (Join-Path $source 'LinkedServer.Interop.dll')
        Copy-Item (Join-Path $env:LSV_TEST_ROOT 'powershell/LinkedServer/LinkedServer.Interop.cs') $source
        $figures = foreach ($variant in @(@{ Name = 'Add-Type of LinkedServer.Interop.cs'; Path = $source },
                @{ Name = 'precompiled LinkedServer.Interop.dll'; Path = $package })) {
            # Each import in a new process: a type cannot be loaded twice in one.
            $times = foreach ($run in 1..3) {
                $ms = & $env:LSV_TEST_PWSH -NoProfile -NonInteractive -Command "[math]::Round((Measure-Command { Import-Module '$($variant.Path)/LinkedServer.psd1' }).TotalMilliseconds)"
                $LASTEXITCODE | Should -Be 0
                [double]$ms
            }
            $sorted = @($times | Sort-Object)
            '{0}: median {1} ms of 3 imports ({2})' -f $variant.Name, $sorted[1], ($times -join ', ')
        }
        $figures | ForEach-Object { Write-Host "Import-Module figure: $_" }
        $figures | Set-Content (Join-Path $env:LSV_TEST_WORK 'import-timings.txt')
        $figures.Count | Should -Be 2
    }
}
