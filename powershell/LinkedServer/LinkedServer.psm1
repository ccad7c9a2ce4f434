# The interop layer ships as C# source so that Windows PowerShell 5.1 and PowerShell 7 both compile
# it with Add-Type; a type cannot be redefined in a session, so a re-import reuses the first one.
if (-not ('LinkedServer.Interop.LinkedServerClient' -as [type])) {
    Add-Type -Path (Join-Path $PSScriptRoot 'LinkedServer.Interop.cs')
}
# Add-Type assemblies have no location: tell the loader where the win-x64/, linux-x64/... folders are.
[LinkedServer.Interop.LinkedServerLibrary]::DefaultBaseDirectory = $PSScriptRoot

foreach ($folder in 'Private', 'Public') {
    foreach ($script in Get-ChildItem -Path (Join-Path $PSScriptRoot $folder) -Filter '*.ps1') {
        . $script.FullName
    }
}

Export-ModuleMember -Function (Get-ChildItem -Path (Join-Path $PSScriptRoot 'Public') -Filter '*.ps1').BaseName
