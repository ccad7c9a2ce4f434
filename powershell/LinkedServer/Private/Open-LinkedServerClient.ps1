function Open-LinkedServerClient {
    <#
    .SYNOPSIS
    Connects to one instance and returns a LinkedServerClient; a failure is thrown unchanged.
    .DESCRIPTION
    The connect step shared by Connect-LinkedServerInstance and every command given -SqlInstance
    or -ConnectionString. Resolves the native library path (-LibraryPath, else the
    LSV_NATIVE_LIBRARY environment variable, else the library cargo built when the module is
    imported from the source tree, else <module>/<runtime>/) against the current PowerShell
    location, so a relative path means what it means at the prompt. The caller reports a failure.
    .PARAMETER SqlInstance
    The instance: HOST, HOST\INSTANCE, HOST,PORT or tcp:HOST,PORT.
    .PARAMETER ConnectionString
    A full connection string instead of -SqlInstance.
    .PARAMETER SqlCredential
    A SQL login; omitted: the credentials the connection string holds, or Integrated Security.
    .PARAMETER Encrypt
    With -SqlInstance: Mandatory, Optional or Strict.
    .PARAMETER TrustServerCertificate
    With -SqlInstance: accept the server certificate without validating it.
    .PARAMETER LibraryPath
    The native library file to load; relative paths are taken from the current location.
    .EXAMPLE
    $client = Open-LinkedServerClient -SqlInstance 'SQL01' -SqlCredential $cred -Encrypt Mandatory
    #>
    [CmdletBinding()]
    [OutputType([LinkedServer.Interop.LinkedServerClient])]
    param(
        [string]$SqlInstance,
        [string]$ConnectionString,
        [PSCredential]$SqlCredential,
        [LinkedServer.Interop.LinkedServerEncrypt]$Encrypt = 'Mandatory',
        [switch]$TrustServerCertificate,
        [string]$LibraryPath
    )
    if (-not $LibraryPath) {
        $LibraryPath = [Environment]::GetEnvironmentVariable([LinkedServer.Interop.LinkedServerLibrary]::PathVariable)
    }
    if ($LibraryPath) {
        # .NET resolves a relative path against the process folder, which is not $PWD.
        $LibraryPath = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($LibraryPath)
    }
    else {
        $LibraryPath = $script:SourceTreeLibrary
    }
    $userName = $null
    $password = $null
    if ($SqlCredential) {
        $userName = $SqlCredential.UserName
        $password = $SqlCredential.Password
    }
    if ($ConnectionString) {
        $as = if ($userName) { "SQL login '$userName'" } else { 'the credentials the connection string names' }
        Write-Verbose "Connecting with a connection string as $as"
        $client = New-Object LinkedServer.Interop.LinkedServerClient -ArgumentList @($ConnectionString, $userName, $password, $LibraryPath)
        $builder = New-Object System.Data.Common.DbConnectionStringBuilder
        # The setter by name: on a dictionary, "$builder.ConnectionString = ..." would add a key.
        $builder.set_ConnectionString($ConnectionString)
        foreach ($key in 'Server', 'Data Source', 'Address', 'Addr', 'Network Address') {
            if ($builder.ContainsKey($key)) {
                $client.SqlInstance = [string]$builder[$key]
                break
            }
        }
    }
    else {
        $as = if ($userName) { "SQL login '$userName'" }
        elseif ([Environment]::OSVersion.Platform -eq [PlatformID]::Win32NT) { 'the current Windows identity' }
        else { 'Integrated Security, which the library supports on Windows only' }
        Write-Verbose "Connecting to $SqlInstance as $as (Encrypt=$Encrypt, TrustServerCertificate=$TrustServerCertificate)"
        $client = [LinkedServer.Interop.LinkedServerClient]::Connect(
            $SqlInstance, $userName, $password, $Encrypt, $TrustServerCertificate.IsPresent, $LibraryPath)
    }
    Write-Verbose "Connected to $client using $($client.Library.Path) ($($client.Library.Version))"
    # How the connection is protected costs one query: asked only when someone reads it.
    # A failure of that query only costs the verbose line, never the connection just opened.
    if ($VerbosePreference -ne 'SilentlyContinue') {
        try {
            $info = $client.GetConnectionInfo()
            Write-Verbose ("Connection to {0}: encryption {1}, certificate validated: {2}, TDS {3}, server {4} version {5}" -f
                $client, $info.Encryption, $info.CertificateValidated, $info.TdsVersion, $info.ServerName, $info.ServerVersion)
        }
        catch {
            Write-Verbose "Connection to ${client}: how it is protected could not be read ($($_.Exception.Message))"
        }
    }
    $client
}
