# The interop layer: the package ships it precompiled (LinkedServer.Interop.dll, built from
# LinkedServer.Interop.cs by scripts/package.sh); the source tree compiles the .cs with Add-Type.
# A type cannot be redefined in a session, so a re-import reuses the first one.
if (-not ('LinkedServer.Interop.LinkedServerClient' -as [type])) {
    $interop = Join-Path $PSScriptRoot 'LinkedServer.Interop.dll'
    if (Test-Path -LiteralPath $interop) {
        Add-Type -Path $interop
    }
    else {
        Add-Type -Path (Join-Path $PSScriptRoot 'LinkedServer.Interop.cs')
    }
}
# Add-Type assemblies have no location: tell the loader where the win-x64/, linux-x64/... folders are.
[LinkedServer.Interop.LinkedServerLibrary]::DefaultBaseDirectory = $PSScriptRoot

# Imported from the source tree (powershell/LinkedServer in the repository), the module has no
# <runtime>/ folder: use the library cargo built, the newer of target/release and target/debug.
$script:SourceTreeLibrary = $null
$runtime = [LinkedServer.Interop.LinkedServerLibrary]::RuntimeIdentifier
$fileName = [LinkedServer.Interop.LinkedServerLibrary]::FileName
$repository = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)
if (-not (Test-Path -LiteralPath (Join-Path (Join-Path $PSScriptRoot $runtime) $fileName)) -and
    (Test-Path -LiteralPath (Join-Path $repository 'Cargo.toml'))) {
    $built = @('release', 'debug' | ForEach-Object { Join-Path (Join-Path (Join-Path $repository 'target') $_) $fileName } |
        Where-Object { Test-Path -LiteralPath $_ } | Sort-Object { (Get-Item -LiteralPath $_).LastWriteTimeUtc } -Descending)
    if ($built.Count -gt 0) {
        $script:SourceTreeLibrary = $built[0]
    }
    elseif (-not [Environment]::GetEnvironmentVariable([LinkedServer.Interop.LinkedServerLibrary]::PathVariable)) {
        Write-Warning "LinkedServer: no native library for $runtime yet; build it with 'cargo build --release' in $repository (it goes to target/release/$fileName), or run scripts/package.sh for the installable module."
    }
}

foreach ($folder in 'Private', 'Public') {
    foreach ($script in Get-ChildItem -Path (Join-Path $PSScriptRoot $folder) -Filter '*.ps1') {
        . $script.FullName
    }
}
Register-LinkedServerCompleter

Export-ModuleMember -Function (Get-ChildItem -Path (Join-Path $PSScriptRoot 'Public') -Filter '*.ps1').BaseName
