function Connect-LinkedServerInstance {
    <#
    .SYNOPSIS
    Opens a connection to the SQL Server instance whose linked servers you manage.
    .DESCRIPTION
    Connects through the linkedsrv native library and returns a LinkedServerClient (one per
    instance) to pass to the other commands with -Connection, or to let their pipeline input carry.
    Encryption is on and the server certificate is validated unless you say otherwise.
    Without -SqlCredential: on Windows the current Windows identity is used (Integrated Security);
    on Linux and macOS the library has no Integrated Security, so the connect fails with
    LinkedServer.Unsupported and you must give a SQL login. With -ConnectionString and no
    -SqlCredential, the connection string's own User ID and Password (or Integrated Security) apply.
    The password of -SqlCredential stays in a SecureString and is copied to unmanaged memory only
    for the connect call, then zeroed. Dispose the client when done (in a finally block in scripts).
    A failed connect is written as one error per instance; the other instances are still tried.
    .PARAMETER SqlInstance
    One or more instances: HOST, HOST\INSTANCE, HOST,PORT or tcp:HOST,PORT. Takes pipeline input.
    .PARAMETER SqlCredential
    A SQL Server login and its password (alias Credential). Omit for Integrated Security (Windows only).
    .PARAMETER Encrypt
    Mandatory (default), Optional (TLS for the login only) or Strict (TDS 8.0).
    .PARAMETER TrustServerCertificate
    Accept the server certificate without validating it. Use only for tests or known hosts.
    .PARAMETER ConnectionString
    A full ADO.NET-style connection string instead of -SqlInstance. -SqlCredential, when given,
    adds User ID and Password to it.
    .PARAMETER LibraryPath
    The native library file to load instead of the one for this platform in the module folder
    (win-x64\linkedsrv.dll, linux-x64/liblinkedsrv.so...). A relative path is taken from the current
    location ($PWD). The LSV_NATIVE_LIBRARY environment variable does the same for every command.
    .EXAMPLE
    $mgmt = Connect-LinkedServerInstance -SqlInstance 'SQL01\BTS'
    Get-LinkedServer -Connection $mgmt

    On Windows: connects with the current Windows identity and lists the linked servers.
    .EXAMPLE
    $mgmt = Connect-LinkedServerInstance -SqlInstance 'tcp:sql01.contoso.com,1433' -SqlCredential (Get-Credential sa)

    Connects with a SQL login; the password is prompted for and never shown.
    .EXAMPLE
    $mgmt = Connect-LinkedServerInstance -ConnectionString 'Server=tcp:127.0.0.1,14330;Encrypt=true;ServerCertificate=/tmp/standin.pem' -SqlCredential $cred
    .EXAMPLE
    $clients = 'SQL01', 'SQL02' | Connect-LinkedServerInstance -SqlCredential $cred
    #>
    [CmdletBinding(DefaultParameterSetName = 'SqlInstance')]
    [OutputType([LinkedServer.Interop.LinkedServerClient])]
    param(
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'SqlInstance', ValueFromPipeline)]
        [string[]]$SqlInstance,
        [Alias('Credential')]
        [PSCredential]$SqlCredential,
        [LinkedServer.Interop.LinkedServerEncrypt]$Encrypt = 'Mandatory',
        [switch]$TrustServerCertificate,
        [Parameter(Mandatory, ParameterSetName = 'ConnectionString')]
        [string]$ConnectionString,
        [string]$LibraryPath
    )
    process {
        $connect = @{}
        foreach ($key in 'ConnectionString', 'SqlCredential', 'Encrypt', 'TrustServerCertificate', 'LibraryPath') {
            if ($PSBoundParameters.ContainsKey($key)) {
                $connect[$key] = $PSBoundParameters[$key]
            }
        }
        # One round without an instance for -ConnectionString (an if statement would unroll @($null) to nothing).
        $instances = @($null)
        if ($PSCmdlet.ParameterSetName -eq 'SqlInstance') {
            $instances = $SqlInstance
        }
        foreach ($instance in $instances) {
            try {
                Open-LinkedServerClient -SqlInstance $instance @connect
            }
            catch {
                Write-LinkedServerError -Cmdlet $PSCmdlet -ErrorRecord $_ -Target $instance
            }
        }
    }
}
