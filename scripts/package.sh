#!/usr/bin/env bash
# Builds the installable PowerShell module LinkedServer:
#   target/package/LinkedServer/            the module folder as it ships (manifest with the crate's
#                                           version, scripts, format/type data, the precompiled interop,
#                                           linux-x64/liblinkedsrv.so, win-x64/linkedsrv.dll)
#   target/package/repository/LinkedServer.<version>.nupkg
#                                           the same folder published with Publish-PSResource to a
#                                           local file repository (Install-PSResource reads it)
# Needs: cargo with the x86_64-pc-windows-gnu target and gcc-mingw-w64-x86-64, the .NET SDK, and
# target/tools/pwsh/pwsh (scripts/test-all.sh installs it:
# dotnet tool install PowerShell --version 7.6.10 --tool-path target/tools/pwsh).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
target="$(cargo metadata --no-deps --format-version 1 | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)"
[[ -n $target ]] || { echo "cargo metadata did not report a target directory" >&2; exit 1; }
version=$(cargo metadata --no-deps --format-version 1 \
    | grep -o '"name":"linkedsrv","version":"[^"]*"' | cut -d'"' -f8)
[[ -n $version ]] || { echo "cannot read the linkedsrv crate version" >&2; exit 1; }
pwsh=$root/target/tools/pwsh/pwsh
[[ -x $pwsh ]] || { echo "$pwsh is missing: dotnet tool install PowerShell --version 7.6.10 --tool-path target/tools/pwsh" >&2; exit 1; }

echo "== cargo build --release (linux-x64, win-x64)"
cargo build --quiet --release --lib -p linkedsrv
cargo build --quiet --release --lib -p linkedsrv --target x86_64-pc-windows-gnu

echo "== interop: netstandard2.0, C# 5, warnings as errors (nuget/LinkedServer.Interop.csproj)"
# The same project the NuGet package of the binding is packed from; its output goes to target/dotnet.
NUGET_PACKAGES=$target/nuget-packages dotnet build nuget/LinkedServer.Interop.csproj -c Release -nologo -v q \
    -p:LsvNativeLinuxX64="$target/release/liblinkedsrv.so" >/dev/null
interop_dll=$root/target/dotnet/bin/LinkedServer.Interop/release/LinkedServer.Interop.dll
[[ -f $interop_dll ]] || { echo "the interop build did not produce $interop_dll" >&2; exit 1; }

echo "== layout target/package/LinkedServer ($version)"
package=$root/target/package
module=$package/LinkedServer
rm -rf "$module" "$package/repository"
mkdir -p "$module/linux-x64" "$module/win-x64" "$package/repository"
source=$root/powershell/LinkedServer
cp -r "$source/Public" "$source/Private" "$module/"
cp "$source/LinkedServer.psm1" "$source/LinkedServer.Format.ps1xml" "$source/LinkedServer.Types.ps1xml" "$module/"
sed -E "s/^( *ModuleVersion *= *)'[^']*'/\1'$version'/" "$source/LinkedServer.psd1" >"$module/LinkedServer.psd1"
grep -q "ModuleVersion *= *'$version'" "$module/LinkedServer.psd1" || { echo "ModuleVersion not set" >&2; exit 1; }
cp "$interop_dll" "$module/"
cp "$target/release/liblinkedsrv.so" "$module/linux-x64/"
cp "$target/x86_64-pc-windows-gnu/release/linkedsrv.dll" "$module/win-x64/"

echo "== Publish-PSResource to target/package/repository"
# A profile of its own under target/: registering a repository writes to the user's settings.
home=$package/pshome
# .NET reports no LocalApplicationData folder (and PSResourceGet then writes to the working folder)
# unless it exists.
mkdir -p "$home/.local/share" "$home/.config" "$home/.cache"
LSV_REPOSITORY=$package/repository LSV_MODULE=$module HOME=$home XDG_DATA_HOME=$home/.local/share XDG_CONFIG_HOME=$home/.config XDG_CACHE_HOME=$home/.cache \
    POWERSHELL_TELEMETRY_OPTOUT=1 POWERSHELL_UPDATECHECK=Off \
    "$pwsh" -NoProfile -NonInteractive -Command '
        $ErrorActionPreference = "Stop"
        $repository = $env:LSV_REPOSITORY
        if (Get-PSResourceRepository -Name LinkedServerLocal -ErrorAction SilentlyContinue) {
            Unregister-PSResourceRepository -Name LinkedServerLocal
        }
        Register-PSResourceRepository -Name LinkedServerLocal -Uri $repository -Trusted
        Publish-PSResource -Path $env:LSV_MODULE -Repository LinkedServerLocal
    '
nupkg=$package/repository/LinkedServer.$version.nupkg
[[ -f $nupkg ]] || { echo "Publish-PSResource did not write $nupkg" >&2; exit 1; }
echo "module:  $module"
echo "package: $nupkg"
