function Connect-LinkedServerInstance {
    <#
    .SYNOPSIS
    Opens a connection to the SQL Server instance whose linked servers you manage.
    .DESCRIPTION
    Connects through the linkedsrv native library and returns a LinkedServerClient to pass to the
    other commands with -Connection (or to let their pipeline input carry). Encryption is on and the
    server certificate is validated unless you say otherwise. Without -Credential the current Windows
    (or Kerberos) identity is used. The password of -Credential stays in a SecureString and is copied
    to unmanaged memory only for the connect call, then zeroed. Dispose the client when done, or let
    the session end.
    .PARAMETER SqlInstance
    The instance: HOST, HOST\INSTANCE, HOST,PORT or tcp:HOST,PORT.
    .PARAMETER Credential
    A SQL Server login and its password. Omit for Integrated Security.
    .PARAMETER Encrypt
    Mandatory (default), Optional (TLS for the login only) or Strict (TDS 8.0).
    .PARAMETER TrustServerCertificate
    Accept the server certificate without validating it. Use only for tests or known hosts.
    .PARAMETER ConnectionString
    A full ADO.NET-style connection string instead of -SqlInstance. -Credential, when given, adds
    User ID and Password to it.
    .PARAMETER LibraryPath
    Full path of the native library to load instead of the one for this platform in the module
    folder (win-x64\linkedsrv.dll, linux-x64/liblinkedsrv.so...). The LSV_NATIVE_LIBRARY environment
    variable does the same.
    .EXAMPLE
    $mgmt = Connect-LinkedServerInstance -SqlInstance 'SQL01\BTS'
    Get-LinkedServer -Connection $mgmt

    Connects with the current Windows identity and lists the linked servers.
    .EXAMPLE
    $mgmt = Connect-LinkedServerInstance -SqlInstance 'tcp:sql01.contoso.com,1433' -Credential (Get-Credential sa)

    Connects with a SQL login; the password is prompted for and never shown.
    .EXAMPLE
    $mgmt = Connect-LinkedServerInstance -ConnectionString 'Server=tcp:127.0.0.1,14330;Encrypt=true;ServerCertificate=/tmp/standin.pem' -Credential $cred
    #>
    [CmdletBinding(DefaultParameterSetName = 'SqlInstance')]
    [OutputType([LinkedServer.Interop.LinkedServerClient])]
    param(
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'SqlInstance')]
        [string]$SqlInstance,
        [PSCredential]$Credential,
        [Parameter(ParameterSetName = 'SqlInstance')]
        [LinkedServer.Interop.LinkedServerEncrypt]$Encrypt = 'Mandatory',
        [Parameter(ParameterSetName = 'SqlInstance')]
        [switch]$TrustServerCertificate,
        [Parameter(Mandatory, ParameterSetName = 'ConnectionString')]
        [string]$ConnectionString,
        [string]$LibraryPath
    )
    $userName = $null
    $password = $null
    if ($Credential) {
        $userName = $Credential.UserName
        $password = $Credential.Password
    }
    $as = if ($userName) { "SQL login '$userName'" } else { 'the current Windows identity' }
    try {
        if ($PSCmdlet.ParameterSetName -eq 'ConnectionString') {
            Write-Verbose "Connecting with a connection string as $as"
            $client = [LinkedServer.Interop.LinkedServerClient]::new($ConnectionString, $userName, $password, $LibraryPath)
        }
        else {
            Write-Verbose "Connecting to $SqlInstance as $as (Encrypt=$Encrypt, TrustServerCertificate=$TrustServerCertificate)"
            $client = [LinkedServer.Interop.LinkedServerClient]::Connect(
                $SqlInstance, $userName, $password, $Encrypt, $TrustServerCertificate.IsPresent, $LibraryPath)
        }
    }
    catch {
        Write-LinkedServerError -Cmdlet $PSCmdlet -ErrorRecord $_ -Target $SqlInstance -Terminating
    }
    Write-Verbose "Connected using $($client.Library.Path) ($($client.Library.Version))"
    $client
}
