// C# binding of liblinkedsrv's C ABI (version 1.x), usable as is by C# applications and compiled by
// the LinkedServer PowerShell module with Add-Type. It stays C# 5 so that Windows PowerShell 5.1
// (.NET Framework 4.7.2) can compile it, and it avoids NativeLibrary, LPUTF8Str and the default
// CharSet: the native library is loaded by full path and every export is bound as a cdecl delegate,
// one design for Windows, Linux, macOS, Mono and .NET 8.
using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.ComponentModel;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;
using System.Threading;
using Microsoft.Win32.SafeHandles;

namespace LinkedServer.Interop
{
    /// <summary>Status codes of the C ABI (the numbers never change).</summary>
    public enum LinkedServerStatus
    {
        Ok = 0,
        InvalidArgument = 1,
        NotFound = 2,
        AlreadyExists = 3,
        HasLogins = 4,
        PermissionDenied = 5,
        Sql = 6,
        Connection = 7,
        Tls = 8,
        Authentication = 9,
        Timeout = 10,
        Internal = 11,
        InvalidHandle = 12,
        Unsupported = 13,
        /// <summary>Interrupted by lsv_cancel (LinkedServerClient.Cancel or its CancellationToken).</summary>
        Cancelled = 14
    }

    /// <summary>The Encrypt keyword of the connection string (the library validates the certificate
    /// in every mode unless TrustServerCertificate is set, which Strict ignores).</summary>
    public enum LinkedServerEncrypt
    {
        /// <summary>Everything encrypted (the default).</summary>
        Mandatory,
        /// <summary>TLS for the login only, unless the server requires more; a server that cannot
        /// encrypt is refused (no plaintext fallback).</summary>
        Optional,
        /// <summary>TDS 8.0: TLS before any TDS traffic; the certificate is always validated.</summary>
        Strict
    }

    /// <summary>One ERROR or INFO message the server sent during a failed call.</summary>
    public sealed class ServerMessage
    {
        public int Number { get; internal set; }
        public int Severity { get; internal set; }
        public int State { get; internal set; }
        public string Procedure { get; internal set; }
        public int Line { get; internal set; }
        public string Server { get; internal set; }
        public string Message { get; internal set; }

        public override string ToString()
        {
            return string.Format(CultureInfo.InvariantCulture, "Msg {0}, Level {1}, State {2}: {3}",
                Number, Severity, State, Message);
        }
    }

    /// <summary>A failed library call: the status plus, for server errors, the SQL error details.</summary>
    public class LinkedServerException : Exception
    {
        private readonly ReadOnlyCollection<ServerMessage> serverMessages;

        public LinkedServerException(LinkedServerStatus status, string message, int number, int severity,
            int state, string procedure, int lineNumber, IList<ServerMessage> serverMessages)
            : base(message)
        {
            Status = status;
            Number = number;
            Severity = severity;
            State = state;
            Procedure = procedure ?? string.Empty;
            LineNumber = lineNumber;
            this.serverMessages = new ReadOnlyCollection<ServerMessage>(
                serverMessages ?? (IList<ServerMessage>)new ServerMessage[0]);
        }

        public LinkedServerStatus Status { get; private set; }
        /// <summary>SQL Server error number (like SqlException.Number); 0 when not a server error.</summary>
        public int Number { get; private set; }
        public int Severity { get; private set; }
        public int State { get; private set; }
        public string Procedure { get; private set; }
        public int LineNumber { get; private set; }
        /// <summary>Every error and info message of the failed call, in arrival order.</summary>
        public ReadOnlyCollection<ServerMessage> ServerMessages { get { return serverMessages; } }
        /// <summary>True when the call may have changed the server before it failed (it broke off
        /// after a request was sent, or its undo failed): read the state before retrying.</summary>
        public bool OutcomeUncertain { get; internal set; }
        /// <summary>True when undoing a partial change failed, so a part of it may be left.</summary>
        public bool UndoFailed { get; internal set; }

        /// <summary>Stable id for PowerShell error records, e.g. LinkedServer.NotFound.15015.</summary>
        public string ErrorId
        {
            get
            {
                string id = "LinkedServer." + Status.ToString();
                return Number != 0 ? id + "." + Number.ToString(CultureInfo.InvariantCulture) : id;
            }
        }

        /// <summary>Name of the System.Management.Automation.ErrorCategory value for this status
        /// (a name, so that this file needs no PowerShell assembly).</summary>
        public string ErrorCategory
        {
            get
            {
                switch (Status)
                {
                    case LinkedServerStatus.InvalidArgument: return "InvalidArgument";
                    case LinkedServerStatus.NotFound: return "ObjectNotFound";
                    case LinkedServerStatus.AlreadyExists: return "ResourceExists";
                    case LinkedServerStatus.HasLogins: return "ResourceBusy";
                    case LinkedServerStatus.PermissionDenied: return "PermissionDenied";
                    case LinkedServerStatus.Connection: return "ConnectionError";
                    case LinkedServerStatus.Tls: return "SecurityError";
                    case LinkedServerStatus.Authentication: return "AuthenticationError";
                    case LinkedServerStatus.Timeout: return "OperationTimeout";
                    case LinkedServerStatus.InvalidHandle: return "InvalidOperation";
                    case LinkedServerStatus.Unsupported: return "NotImplemented";
                    case LinkedServerStatus.Cancelled: return "OperationStopped";
                    default: return "NotSpecified";
                }
            }
        }
    }

    /// <summary>One row of sys.linked_logins (never a password).</summary>
    public sealed class LinkedServerLogin
    {
        /// <summary>Name of the linked server the mapping belongs to.</summary>
        public string LinkedServer { get; internal set; }
        /// <summary>The local login; null for the mapping that applies to every login.</summary>
        public string LocalLogin { get; internal set; }
        public bool UsesSelfCredential { get; internal set; }
        public string RemoteUser { get; internal set; }
        /// <summary>The connection the mapping was read with, for pipeline input.</summary>
        public LinkedServerClient Connection { get; internal set; }

        public override string ToString()
        {
            string target = UsesSelfCredential ? "(self)" : (RemoteUser ?? "(no security context)");
            return (LocalLogin ?? "*") + " -> " + target;
        }
    }

    /// <summary>A snapshot of one linked server (sys.servers row and its login mappings).</summary>
    public sealed class LinkedServerInfo
    {
        public int ServerId { get; internal set; }
        public string Name { get; internal set; }
        public string Product { get; internal set; }
        public string Provider { get; internal set; }
        public string DataSource { get; internal set; }
        public string Location { get; internal set; }
        public string ProviderString { get; internal set; }
        public string Catalog { get; internal set; }
        public int ConnectTimeout { get; internal set; }
        public int QueryTimeout { get; internal set; }
        public bool Rpc { get; internal set; }
        public bool RpcOut { get; internal set; }
        public bool DataAccess { get; internal set; }
        public bool CollationCompatible { get; internal set; }
        public bool UseRemoteCollation { get; internal set; }
        public string CollationName { get; internal set; }
        public bool LazySchemaValidation { get; internal set; }
        public bool IsSystem { get; internal set; }
        public bool IsPublisher { get; internal set; }
        public bool IsSubscriber { get; internal set; }
        public bool IsDistributor { get; internal set; }
        public bool IsNonSqlSubscriber { get; internal set; }
        public bool RemoteProcTransactionPromotion { get; internal set; }
        public DateTime? ModifyDate { get; internal set; }
        public ReadOnlyCollection<LinkedServerLogin> Logins { get; internal set; }
        /// <summary>The connection the snapshot was read with, for pipeline input.</summary>
        public LinkedServerClient Connection { get; internal set; }

        public override string ToString()
        {
            return Name;
        }
    }

    /// <summary>Outcome of sp_testlinkedserver as Test-LinkedServer reports it.</summary>
    public sealed class LinkedServerTestResult
    {
        public string Name { get; internal set; }
        public bool Success { get; internal set; }
        /// <summary>SQL error number of the failure; 0 on success.</summary>
        public int Number { get; internal set; }
        public string Message { get; internal set; }
        public LinkedServerException Exception { get; internal set; }
    }

    /// <summary>How a client is connected (lsv_connection_info).</summary>
    public sealed class LinkedServerConnectionInfo
    {
        /// <summary>host:port or host\instance.</summary>
        public string Address { get; internal set; }
        /// <summary>What TLS covers: strict (TDS 8.0), full, login_only or none.</summary>
        public string Encryption { get; internal set; }
        /// <summary>True when everything after the login is encrypted (strict or full).</summary>
        public bool Encrypted { get; internal set; }
        /// <summary>False under TrustServerCertificate=true (except with Encrypt=strict) and without TLS.</summary>
        public bool CertificateValidated { get; internal set; }
        /// <summary>The TDS version the driver speaks: 8.0 under Encrypt=strict, else 7.4.</summary>
        public string TdsVersion { get; internal set; }
        /// <summary>SERVERPROPERTY('ServerName').</summary>
        public string ServerName { get; internal set; }
        /// <summary>SERVERPROPERTY('ProductVersion').</summary>
        public string ServerVersion { get; internal set; }

        public override string ToString()
        {
            return ServerName + " (" + ServerVersion + ", TDS " + TdsVersion + ", encryption " + Encryption + ")";
        }
    }


    /// <summary>Flags of lsv_ensure and lsv_biztalk_sync (LSV_ENSURE_* in linkedsrv.h).</summary>
    [Flags]
    public enum LinkedServerEnsureFlags : uint
    {
        None = 0,
        /// <summary>Plan and report only; change nothing.</summary>
        DryRun = 1,
        /// <summary>Also remove mappings the desired state does not list (the one for every
        /// login too, unless listed with local_login null).</summary>
        ExactLogins = 2,
        /// <summary>Converge product, provider, data source, location, provider string and
        /// catalog by dropping and re-creating the server.</summary>
        AllowRecreate = 4,
        /// <summary>Re-send the passwords of listed remote-user mappings.</summary>
        SetPasswords = 8
    }

    /// <summary>What lsv_ensure did (or, for a dry run, would do) to one linked server.</summary>
    public sealed class LinkedServerEnsureResult
    {
        public string Name { get; internal set; }
        /// <summary>created, updated, recreated or unchanged.</summary>
        public string Action { get; internal set; }
        /// <summary>Each option from/to, each mapping added/changed/removed, each re-created
        /// field, one sentence each (never a password).</summary>
        public ReadOnlyCollection<string> Changes { get; internal set; }
        /// <summary>The same changes as the report's JSON objects.</summary>
        public ReadOnlyCollection<Dictionary<string, object>> ChangeDetails { get; internal set; }
        /// <summary>The T-SQL that ran (or would run): values as N'...' literals, passwords as
        /// variables to fill in; "" when unchanged.</summary>
        public string Sql { get; internal set; }

        public override string ToString()
        {
            return Name + ": " + Action;
        }
    }

    /// <summary>The report of lsv_ensure.</summary>
    public sealed class LinkedServerEnsureReport
    {
        public bool DryRun { get; internal set; }
        /// <summary>Requests this call sent to the server.</summary>
        public int Requests { get; internal set; }
        public ReadOnlyCollection<LinkedServerEnsureResult> Servers { get; internal set; }
        /// <summary>The report as the library returned it.</summary>
        public string Json { get; internal set; }
    }

    /// <summary>lsv_probe: whether a link works (sp_testlinkedserver and a call through it).</summary>
    public class LinkedServerProbeResult
    {
        public string Name { get; internal set; }
        public bool Ok { get; internal set; }
        /// <summary>Where it failed: configure, network, login or rpc; null when Ok.</summary>
        public string Stage { get; internal set; }
        /// <summary>SQL error number of the failure; 0 when none.</summary>
        public int Number { get; internal set; }
        public string Message { get; internal set; }
        /// <summary>@@SERVERNAME of the instance the link reached.</summary>
        public string RemoteServerName { get; internal set; }

        internal void ReadProbe(Dictionary<string, object> item)
        {
            Ok = Json.Bool(item, "ok");
            Stage = Json.Str(item, "stage");
            Number = Json.Int(item, "number");
            Message = Json.Str(item, "message");
            RemoteServerName = Json.Str(item, "remote_server_name");
        }

        public override string ToString()
        {
            return Name + ": " + (Ok ? "ok (" + RemoteServerName + ")" : "failed at " + Stage);
        }
    }

    /// <summary>One backed-up server in the report of lsv_biztalk_sync.</summary>
    public sealed class LinkedServerSyncResult : LinkedServerProbeResult
    {
        /// <summary>Its databases in admv_BackupDatabases.</summary>
        public ReadOnlyCollection<string> Databases { get; internal set; }
        /// <summary>What was done to its linked server; null when planning failed.</summary>
        public string Action { get; internal set; }
        /// <summary>One sentence per change.</summary>
        public ReadOnlyCollection<string> Changes { get; internal set; }
        public ReadOnlyCollection<Dictionary<string, object>> ChangeDetails { get; internal set; }
        public string Sql { get; internal set; }
    }

    /// <summary>The report of lsv_biztalk_sync.</summary>
    public sealed class LinkedServerSyncReport
    {
        /// <summary>Every server configured and verified.</summary>
        public bool Ok { get; internal set; }
        public bool DryRun { get; internal set; }
        public int Requests { get; internal set; }
        public string Database { get; internal set; }
        public string JobLogin { get; internal set; }
        /// <summary>@@SERVERNAME of the management instance (left out of the list).</summary>
        public string Instance { get; internal set; }
        public ReadOnlyCollection<LinkedServerSyncResult> Servers { get; internal set; }
        public string Json { get; internal set; }
    }

    /// <summary>The desired state of one linked server for lsv_ensure, as JSON in the shape
    /// lsv_get returns. Build it just before the call: remote passwords are in its JSON.</summary>
    public sealed class LinkedServerDesired
    {
        private readonly StringBuilder json = new StringBuilder("{");

        private LinkedServerDesired() { }

        /// <summary>From a Get-LinkedServer object (definition, every option, mappings without
        /// passwords), then the parameters given: Product, Provider, DataSource, Location,
        /// ProviderString, Catalog, Option (option name to value) and Login (hashtables with
        /// LocalLogin and UseSelf, or RemoteUser and RemotePassword as a SecureString; or
        /// LinkedServerLogin objects). A parameter overrides the object.</summary>
        public static LinkedServerDesired FromParameters(string name, LinkedServerInfo info,
            IDictionary<string, object> boundParameters)
        {
            if (string.IsNullOrEmpty(name) && info != null) name = info.Name;
            if (string.IsNullOrEmpty(name)) throw new ArgumentException("Give the linked server's name.", "name");
            var fields = new Dictionary<string, object>(StringComparer.Ordinal);
            var options = new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase);
            List<object> logins = null;
            if (info != null)
            {
                fields["product"] = info.Product;
                fields["provider"] = info.Provider;
                fields["data_source"] = info.DataSource;
                fields["location"] = info.Location;
                fields["provider_string"] = info.ProviderString;
                fields["catalog"] = info.Catalog;
                options["connect timeout"] = info.ConnectTimeout;
                options["query timeout"] = info.QueryTimeout;
                options["rpc"] = info.Rpc;
                options["rpc out"] = info.RpcOut;
                options["data access"] = info.DataAccess;
                options["collation compatible"] = info.CollationCompatible;
                options["use remote collation"] = info.UseRemoteCollation;
                options["collation name"] = info.CollationName;
                options["lazy schema validation"] = info.LazySchemaValidation;
                options["remote proc transaction promotion"] = info.RemoteProcTransactionPromotion;
                options["pub"] = info.IsPublisher;
                options["sub"] = info.IsSubscriber;
                options["dist"] = info.IsDistributor;
                logins = new List<object>(info.Logins);
            }
            foreach (string key in new[] { "Product", "Provider", "DataSource", "Location", "ProviderString", "Catalog" })
            {
                object value;
                if (boundParameters.TryGetValue(key, out value)) fields[Field(key)] = value == null ? null : value.ToString();
            }
            object given;
            if (boundParameters.TryGetValue("Option", out given) && given is IDictionary)
            {
                foreach (DictionaryEntry option in (IDictionary)given) options[option.Key.ToString()] = option.Value;
            }
            if (boundParameters.TryGetValue("Login", out given) && given != null)
            {
                logins = new List<object>();
                foreach (object login in (IEnumerable)given) logins.Add(login);
            }

            var desired = new LinkedServerDesired();
            desired.Member("name");
            Json.WriteString(desired.json, name);
            foreach (KeyValuePair<string, object> field in fields)
            {
                desired.Member(field.Key);
                Json.WriteScalar(desired.json, field.Value);
            }
            if (options.Count > 0)
            {
                desired.Member("options");
                desired.json.Append('{');
                bool first = true;
                foreach (KeyValuePair<string, object> option in options)
                {
                    if (!first) desired.json.Append(',');
                    first = false;
                    Json.WriteString(desired.json, option.Key);
                    desired.json.Append(':');
                    Json.WriteScalar(desired.json, option.Value);
                }
                desired.json.Append('}');
            }
            if (logins != null)
            {
                desired.Member("logins");
                desired.json.Append('[');
                for (int i = 0; i < logins.Count; i++)
                {
                    if (i > 0) desired.json.Append(',');
                    desired.AppendLogin(Unwrap(logins[i]));
                }
                desired.json.Append(']');
            }
            desired.json.Append('}');
            return desired;
        }

        /// <summary>The JSON of lsv_ensure (it holds the remote passwords given).</summary>
        public string ToJson()
        {
            return json.ToString();
        }

        private static string Field(string parameter)
        {
            switch (parameter)
            {
                case "DataSource": return "data_source";
                case "ProviderString": return "provider_string";
                default: return parameter.ToLowerInvariant();
            }
        }

        // PowerShell hands objects of an [object[]] parameter over wrapped in a PSObject; this
        // file does not reference System.Management.Automation, so the wrapper is opened by name.
        private static object Unwrap(object value)
        {
            if (value != null && value.GetType().FullName == "System.Management.Automation.PSObject")
            {
                return value.GetType().GetProperty("BaseObject").GetValue(value, null);
            }
            return value;
        }

        private void Member(string name)
        {
            char last = json[json.Length - 1];
            if (last != '{' && last != '[') json.Append(',');
            Json.WriteString(json, name);
            json.Append(':');
        }

        private void AppendLogin(object login)
        {
            string localLogin;
            bool useSelf;
            string remoteUser;
            SecureString password = null;
            var mapping = login as LinkedServerLogin;
            var table = login as IDictionary;
            if (mapping != null)
            {
                localLogin = mapping.LocalLogin;
                useSelf = mapping.UsesSelfCredential;
                remoteUser = mapping.RemoteUser;
            }
            else if (table != null)
            {
                localLogin = Unwrap(table["LocalLogin"]) as string;
                object self = Unwrap(table["UseSelf"]);
                useSelf = self is bool && (bool)self;
                remoteUser = Unwrap(table["RemoteUser"]) as string;
                password = Unwrap(table["RemotePassword"]) as SecureString;
                if (Unwrap(table["RemotePassword"]) != null && password == null)
                {
                    throw new ArgumentException("RemotePassword must be a SecureString.");
                }
            }
            else
            {
                throw new ArgumentException("A login mapping is a hashtable (LocalLogin, UseSelf or RemoteUser " +
                    "and RemotePassword) or a LinkedServerLogin, not " + (login == null ? "null" : login.GetType().FullName) + ".");
            }
            json.Append('{');
            Member("local_login");
            Json.WriteScalar(json, string.IsNullOrEmpty(localLogin) ? null : localLogin);
            Member("uses_self_credential");
            Json.WriteScalar(json, useSelf);
            if (!useSelf)
            {
                Member("remote_user");
                Json.WriteScalar(json, string.IsNullOrEmpty(remoteUser) ? null : remoteUser);
                if (password != null)
                {
                    Member("remote_password");
                    IntPtr plain = Marshal.SecureStringToGlobalAllocUnicode(password);
                    try
                    {
                        Json.WriteString(json, Marshal.PtrToStringUni(plain));
                    }
                    finally
                    {
                        Marshal.ZeroFreeGlobalAllocUnicode(plain);
                    }
                }
            }
            json.Append('}');
        }
    }

    /// <summary>What lsv_create makes: product, provider, data source... and sp_serveroption values.</summary>
    public sealed class LinkedServerSpec
    {
        private readonly Dictionary<string, object> options = new Dictionary<string, object>(StringComparer.Ordinal);

        public string Product { get; set; }
        public string Provider { get; set; }
        public string DataSource { get; set; }
        public string Location { get; set; }
        public string ProviderString { get; set; }
        public string Catalog { get; set; }
        /// <summary>sp_serveroption name to value (bool, integer, string or null), applied by the
        /// library as part of the create call.</summary>
        public IDictionary<string, object> Options { get { return options; } }

        /// <summary>A spec from parameters named like the properties (Product, Provider, DataSource,
        /// Location, ProviderString, Catalog) plus the option parameters of LinkedServerOptions.</summary>
        public static LinkedServerSpec FromParameters(IDictionary<string, object> boundParameters)
        {
            var spec = new LinkedServerSpec
            {
                Product = Text(boundParameters, "Product"),
                Provider = Text(boundParameters, "Provider"),
                DataSource = Text(boundParameters, "DataSource"),
                Location = Text(boundParameters, "Location"),
                ProviderString = Text(boundParameters, "ProviderString"),
                Catalog = Text(boundParameters, "Catalog")
            };
            foreach (KeyValuePair<string, object> option in LinkedServerOptions.FromParameters(boundParameters))
            {
                // The provider string is a field of the spec, and a new server is named by its name.
                if (option.Key != "provider string" && option.Key != "name") spec.Options[option.Key] = option.Value;
            }
            return spec;
        }

        private static string Text(IDictionary<string, object> boundParameters, string key)
        {
            object value;
            return boundParameters.TryGetValue(key, out value) && value != null ? value.ToString() : null;
        }

        /// <summary>The spec JSON of lsv_create; unset fields are left out.</summary>
        public string ToJson()
        {
            return ToJson(false);
        }

        /// <summary>The spec JSON for logs and -Verbose, with the provider string masked because it
        /// may hold credentials.</summary>
        public override string ToString()
        {
            return ToJson(true);
        }

        private string ToJson(bool maskProviderString)
        {
            const string masked = "(not shown)";
            var json = new StringBuilder("{");
            AppendField(json, "product", Product);
            AppendField(json, "provider", Provider);
            AppendField(json, "data_source", DataSource);
            AppendField(json, "location", Location);
            AppendField(json, "provider_string", maskProviderString && ProviderString != null ? masked : ProviderString);
            AppendField(json, "catalog", Catalog);
            if (options.Count > 0)
            {
                StartField(json, "options");
                json.Append('{');
                bool first = true;
                foreach (KeyValuePair<string, object> option in options)
                {
                    if (!first) json.Append(',');
                    first = false;
                    Json.WriteString(json, option.Key);
                    json.Append(':');
                    bool hide = maskProviderString && option.Value != null &&
                        string.Equals(option.Key, "provider string", StringComparison.OrdinalIgnoreCase);
                    Json.WriteScalar(json, hide ? masked : option.Value);
                }
                json.Append('}');
            }
            return json.Append('}').ToString();
        }

        private static void AppendField(StringBuilder json, string name, string value)
        {
            if (value == null) return;
            StartField(json, name);
            Json.WriteString(json, value);
        }

        private static void StartField(StringBuilder json, string name)
        {
            if (json.Length > 1) json.Append(',');
            Json.WriteString(json, name);
            json.Append(':');
        }
    }

    /// <summary>The sp_serveroption options by the PowerShell parameter names that set them.</summary>
    public static class LinkedServerOptions
    {
        private static readonly string[,] parameterToOption =
        {
            { "Rpc", "rpc" },
            { "RpcOut", "rpc out" },
            { "DataAccess", "data access" },
            { "CollationCompatible", "collation compatible" },
            { "UseRemoteCollation", "use remote collation" },
            { "CollationName", "collation name" },
            { "ConnectTimeout", "connect timeout" },
            { "QueryTimeout", "query timeout" },
            { "LazySchemaValidation", "lazy schema validation" },
            { "RemoteProcTransactionPromotion", "remote proc transaction promotion" },
            { "Publisher", "pub" },
            { "Subscriber", "sub" },
            { "Distributor", "dist" },
            { "ProviderString", "provider string" },
            { "NewName", "name" }
        };

        /// <summary>Parameter names that map to an option, in a fixed order.</summary>
        public static string[] ParameterNames
        {
            get
            {
                var names = new string[parameterToOption.GetLength(0)];
                for (int i = 0; i < names.Length; i++) names[i] = parameterToOption[i, 0];
                return names;
            }
        }

        /// <summary>The (option name, value) pairs for every option parameter present in
        /// boundParameters (e.g. PowerShell's $PSBoundParameters), in the fixed order.</summary>
        public static IList<KeyValuePair<string, object>> FromParameters(IDictionary<string, object> boundParameters)
        {
            var changes = new List<KeyValuePair<string, object>>();
            for (int i = 0; i < parameterToOption.GetLength(0); i++)
            {
                object value;
                if (!boundParameters.TryGetValue(parameterToOption[i, 0], out value)) continue;
                // PowerShell binds $null to a [string] parameter as "": for the options whose
                // value may be NULL (collation name, provider string) that means NULL.
                if ("".Equals(value)) value = null;
                changes.Add(new KeyValuePair<string, object>(parameterToOption[i, 1], value));
            }
            return changes;
        }

        /// <summary>A value as -Verbose and -WhatIf show it: NULL for null, and never the provider
        /// string, which may hold credentials.</summary>
        public static string DisplayValue(string option, string value)
        {
            if (value == null) return "NULL";
            if (string.Equals(option, "provider string", StringComparison.OrdinalIgnoreCase)) return "(not shown)";
            return "'" + value + "'";
        }

        /// <summary>The sp_serveroption spelling of a value: true/false, an integer, a string or null.</summary>
        public static string FormatValue(object value)
        {
            if (value == null) return null;
            if (value is bool) return (bool)value ? "true" : "false";
            if (value is string) return (string)value;
            if (value is int || value is long || value is short || value is byte || value is uint)
                return Convert.ToString(value, CultureInfo.InvariantCulture);
            throw new ArgumentException("Option values must be a bool, an integer or a string, not " +
                value.GetType().FullName + ".");
        }
    }

    /// <summary>
    /// liblinkedsrv loaded by full path, with every export bound as a cdecl delegate. The ABI major
    /// version is checked before anything else; a library stays loaded for the process lifetime.
    /// </summary>
    public sealed class LinkedServerLibrary
    {
        public const int SupportedAbiMajor = 1;
        /// <summary>Environment variable naming the library file to load instead of the default.</summary>
        public const string PathVariable = "LSV_NATIVE_LIBRARY";

        private static readonly object loadLock = new object();
        private static readonly Dictionary<string, LinkedServerLibrary> loaded =
            new Dictionary<string, LinkedServerLibrary>(StringComparer.Ordinal);
        private static string defaultBaseDirectory;

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] internal delegate uint AbiVersionFn();
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] internal delegate IntPtr StaticStringFn();
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] internal delegate void FreeFn(IntPtr pointer);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] internal delegate int ConnectFn(IntPtr connectionString, out IntPtr client, out IntPtr error);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] internal delegate int CreateFn(IntPtr client, byte[] name, byte[] specJson, out IntPtr error);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] internal delegate int DropFn(IntPtr client, byte[] name, int dropLogins, out IntPtr error);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] internal delegate int MapLoginFn(IntPtr client, byte[] server, byte[] localLogin, int useSelf, byte[] remoteUser, IntPtr remotePassword, out IntPtr error);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] internal delegate int ServerFn(IntPtr client, byte[] server, out IntPtr error);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] internal delegate int UnmapLoginFn(IntPtr client, byte[] server, byte[] localLogin, out IntPtr error);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] internal delegate int SetRpcFn(IntPtr client, byte[] server, int rpc, int rpcOut, out IntPtr error);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] internal delegate int SetOptionFn(IntPtr client, byte[] server, byte[] option, byte[] value, out IntPtr error);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] internal delegate int GetFn(IntPtr client, byte[] server, out IntPtr json, out IntPtr error);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] internal delegate int ListFn(IntPtr client, out IntPtr json, out IntPtr error);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] internal delegate int EnsureFn(IntPtr client, byte[] json, uint flags, out IntPtr report, out IntPtr error);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] internal delegate int ErrorIntFn(IntPtr error);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] internal delegate int CancelFn(IntPtr client);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] internal delegate IntPtr ErrorStringFn(IntPtr error);

        internal ConnectFn Connect;
        internal FreeFn ClientFree;
        internal CreateFn Create;
        internal DropFn Drop;
        internal MapLoginFn MapLogin;
        internal UnmapLoginFn UnmapLogin;
        internal SetRpcFn SetRpc;
        internal SetOptionFn SetOption;
        internal GetFn Get;
        internal ListFn List;
        internal ServerFn Test;
        internal EnsureFn Ensure;
        internal GetFn Export;
        internal EnsureFn BizTalkSync;
        internal GetFn Probe;
        internal FreeFn StringFree;
        internal FreeFn ErrorFree;
        internal ErrorIntFn ErrorCode;
        internal ErrorStringFn ErrorMessage;
        internal ErrorIntFn ErrorSqlNumber;
        internal ErrorIntFn ErrorSqlSeverity;
        internal ErrorIntFn ErrorSqlState;
        internal ErrorIntFn ErrorSqlLine;
        internal ErrorStringFn ErrorSqlProcedure;
        internal ErrorStringFn ErrorJson;
        internal CancelFn CancelCalls;
        internal ListFn ConnectionInfo;

        private LinkedServerLibrary(string path, IntPtr module)
        {
            Path = path;
            var abiVersion = Bind<AbiVersionFn>(module, "lsv_abi_version");
            AbiVersion = abiVersion();
            if (AbiVersion >> 16 != SupportedAbiMajor)
            {
                throw new NotSupportedException(string.Format(CultureInfo.InvariantCulture,
                    "The native library '{0}' implements linkedsrv ABI {1}.{2}, but this binding needs ABI {3}.x. " +
                    "Install the module and its native library from the same release.",
                    path, AbiVersion >> 16, AbiVersion & 0xFFFF, SupportedAbiMajor));
            }
            Version = Utf8.FromNative(Bind<StaticStringFn>(module, "lsv_version")());
            Connect = Bind<ConnectFn>(module, "lsv_connect");
            ClientFree = Bind<FreeFn>(module, "lsv_client_free");
            Create = Bind<CreateFn>(module, "lsv_create");
            Drop = Bind<DropFn>(module, "lsv_drop");
            MapLogin = Bind<MapLoginFn>(module, "lsv_map_login");
            UnmapLogin = Bind<UnmapLoginFn>(module, "lsv_unmap_login");
            SetRpc = Bind<SetRpcFn>(module, "lsv_set_rpc");
            SetOption = Bind<SetOptionFn>(module, "lsv_set_option");
            Get = Bind<GetFn>(module, "lsv_get");
            List = Bind<ListFn>(module, "lsv_list");
            Test = Bind<ServerFn>(module, "lsv_test");
            Ensure = Bind<EnsureFn>(module, "lsv_ensure");
            Export = Bind<GetFn>(module, "lsv_export");
            BizTalkSync = Bind<EnsureFn>(module, "lsv_biztalk_sync");
            Probe = Bind<GetFn>(module, "lsv_probe");
            StringFree = Bind<FreeFn>(module, "lsv_string_free");
            ErrorFree = Bind<FreeFn>(module, "lsv_error_free");
            ErrorCode = Bind<ErrorIntFn>(module, "lsv_error_code");
            ErrorMessage = Bind<ErrorStringFn>(module, "lsv_error_message");
            ErrorSqlNumber = Bind<ErrorIntFn>(module, "lsv_error_sql_number");
            ErrorSqlSeverity = Bind<ErrorIntFn>(module, "lsv_error_sql_severity");
            ErrorSqlState = Bind<ErrorIntFn>(module, "lsv_error_sql_state");
            ErrorSqlLine = Bind<ErrorIntFn>(module, "lsv_error_sql_line");
            ErrorSqlProcedure = Bind<ErrorStringFn>(module, "lsv_error_sql_procedure");
            ErrorJson = Bind<ErrorStringFn>(module, "lsv_error_json");
            CancelCalls = Bind<CancelFn>(module, "lsv_cancel");
            ConnectionInfo = Bind<ListFn>(module, "lsv_connection_info");
        }

        /// <summary>Full path of the loaded library file.</summary>
        public string Path { get; private set; }
        /// <summary>lsv_abi_version(): (major &lt;&lt; 16) | minor.</summary>
        public uint AbiVersion { get; private set; }
        /// <summary>lsv_version(): the library's version and build details.</summary>
        public string Version { get; private set; }

        /// <summary>Folder holding the per-runtime subfolders (win-x64, linux-x64...). Defaults to
        /// the folder of this assembly; the PowerShell module sets it to its own folder because
        /// Add-Type assemblies have no location.</summary>
        public static string DefaultBaseDirectory
        {
            get
            {
                if (defaultBaseDirectory != null) return defaultBaseDirectory;
                string location = typeof(LinkedServerLibrary).Assembly.Location;
                return string.IsNullOrEmpty(location) ? AppDomain.CurrentDomain.BaseDirectory
                    : System.IO.Path.GetDirectoryName(location);
            }
            set { defaultBaseDirectory = value; }
        }

        /// <summary>The runtime identifier of this process: win-x64, linux-arm64, osx-arm64...</summary>
        public static string RuntimeIdentifier
        {
            get { return Platform.Current.RuntimeIdentifier; }
        }

        /// <summary>The library file name on this OS: linkedsrv.dll, liblinkedsrv.so, liblinkedsrv.dylib.</summary>
        public static string FileName
        {
            get { return Platform.Current.LibraryFileName; }
        }

        /// <summary>The file Load(null) uses: $LSV_NATIVE_LIBRARY, else the first file that exists of
        /// DefaultBaseDirectory/RuntimeIdentifier/FileName (the module's layout),
        /// DefaultBaseDirectory/runtimes/RuntimeIdentifier/native/FileName (the NuGet package's
        /// layout, as a build without a runtime identifier copies it) and
        /// DefaultBaseDirectory/FileName (a build or publish for one runtime identifier), else the
        /// first of them.</summary>
        public static string DefaultPath
        {
            get
            {
                string overridePath = Environment.GetEnvironmentVariable(PathVariable);
                if (!string.IsNullOrEmpty(overridePath)) return overridePath;
                string baseDirectory = DefaultBaseDirectory;
                string[] candidates =
                {
                    System.IO.Path.Combine(System.IO.Path.Combine(baseDirectory, RuntimeIdentifier), FileName),
                    System.IO.Path.Combine(System.IO.Path.Combine(System.IO.Path.Combine(
                        System.IO.Path.Combine(baseDirectory, "runtimes"), RuntimeIdentifier), "native"), FileName),
                    System.IO.Path.Combine(baseDirectory, FileName)
                };
                foreach (string candidate in candidates)
                {
                    if (File.Exists(candidate)) return candidate;
                }
                return candidates[0];
            }
        }

        /// <summary>Loads the library at path (null or "": DefaultPath) once per process and checks its ABI.</summary>
        public static LinkedServerLibrary Load(string path)
        {
            // "" too: PowerShell passes an unbound [string] parameter as "".
            string fullPath = System.IO.Path.GetFullPath(string.IsNullOrEmpty(path) ? DefaultPath : path);
            lock (loadLock)
            {
                LinkedServerLibrary library;
                if (loaded.TryGetValue(fullPath, out library)) return library;
                if (!File.Exists(fullPath))
                {
                    throw new DllNotFoundException(string.Format(CultureInfo.InvariantCulture,
                        "The linkedsrv native library was not found at '{0}' (runtime {1}). Install the " +
                        "module build for this platform, or set {2} to the library's full path.",
                        fullPath, RuntimeIdentifier, PathVariable));
                }
                IntPtr module = Platform.Current.Open(fullPath);
                try
                {
                    library = new LinkedServerLibrary(fullPath, module);
                }
                catch
                {
                    Platform.Current.Close(module);
                    throw;
                }
                loaded.Add(fullPath, library);
                return library;
            }
        }

        private T Bind<T>(IntPtr module, string export) where T : class
        {
            IntPtr function = Platform.Current.Symbol(module, export);
            if (function == IntPtr.Zero)
            {
                throw new EntryPointNotFoundException("The native library '" + Path + "' does not export '" +
                    export + "'; it is not a compatible linkedsrv build.");
            }
            return Marshal.GetDelegateForFunctionPointer<T>(function);
        }

        /// <summary>Converts a failed call's status and error object into an exception and frees the
        /// error object.</summary>
        internal LinkedServerException TakeError(int status, IntPtr error, string function)
        {
            using (var handle = new ErrorHandle(this, error))
            {
                if (handle.IsInvalid)
                {
                    return new LinkedServerException((LinkedServerStatus)status, function + " failed with status " +
                        status.ToString(CultureInfo.InvariantCulture) + ".", 0, 0, 0, null, 0, null);
                }
                IntPtr raw = handle.DangerousGetHandle();
                var messages = new List<ServerMessage>();
                string json = Utf8.FromNative(ErrorJson(raw));
                var document = json.Length > 0 ? Json.Parse(json) as Dictionary<string, object> : null;
                if (document != null)
                {
                    foreach (Dictionary<string, object> item in Json.Objects(document, "server_messages"))
                    {
                        messages.Add(new ServerMessage
                        {
                            Number = Json.Int(item, "number"),
                            Severity = Json.Int(item, "severity"),
                            State = Json.Int(item, "state"),
                            Procedure = Json.Str(item, "procedure"),
                            Line = Json.Int(item, "line"),
                            Server = Json.Str(item, "server"),
                            Message = Json.Str(item, "message")
                        });
                    }
                }
                var exception = new LinkedServerException((LinkedServerStatus)ErrorCode(raw), Utf8.FromNative(ErrorMessage(raw)),
                    ErrorSqlNumber(raw), ErrorSqlSeverity(raw), ErrorSqlState(raw),
                    Utf8.FromNative(ErrorSqlProcedure(raw)), ErrorSqlLine(raw), messages);
                if (document != null)
                {
                    exception.OutcomeUncertain = Json.Bool(document, "outcome_uncertain");
                    exception.UndoFailed = Json.Bool(document, "undo_failed");
                }
                return exception;
            }
        }

        /// <summary>Copies a library-owned string and frees it with lsv_string_free.</summary>
        internal string TakeString(IntPtr text)
        {
            try
            {
                return Utf8.FromNative(text);
            }
            finally
            {
                StringFree(text);
            }
        }
    }

    /// <summary>An lsv_client*; released with lsv_client_free (never blocks), at most once, only
    /// after every in-flight call that holds a reference has returned.</summary>
    internal sealed class ClientHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        private readonly LinkedServerLibrary library;

        internal ClientHandle(LinkedServerLibrary library, IntPtr client) : base(true)
        {
            this.library = library;
            SetHandle(client);
        }

        protected override bool ReleaseHandle()
        {
            library.ClientFree(handle);
            return true;
        }
    }

    /// <summary>An lsv_error*; released with lsv_error_free.</summary>
    internal sealed class ErrorHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        private readonly LinkedServerLibrary library;

        internal ErrorHandle(LinkedServerLibrary library, IntPtr error) : base(true)
        {
            this.library = library;
            SetHandle(error);
        }

        protected override bool ReleaseHandle()
        {
            library.ErrorFree(handle);
            return true;
        }
    }

    /// <summary>
    /// One connection to the management instance (an lsv_client). Thread-safe: calls from several
    /// threads serialise inside the library. Dispose closes the connection.
    /// </summary>
    public sealed class LinkedServerClient : IDisposable
    {
        private delegate int ClientCall(IntPtr client, out IntPtr error);

        private readonly LinkedServerLibrary library;
        private readonly ClientHandle handle;
        // SafeHandle.Dispose only frees the handle once no call holds a reference; calls that keep
        // starting on other threads would keep it alive, so Dispose also stops new calls.
        private volatile bool disposed;

        /// <summary>Connects with a connection string, loading the library from its default path.</summary>
        public LinkedServerClient(string connectionString) : this(connectionString, null)
        {
        }

        /// <summary>Connects with a connection string, loading the library from libraryPath (null: default).</summary>
        public LinkedServerClient(string connectionString, string libraryPath)
            : this(connectionString, null, null, libraryPath)
        {
        }

        /// <summary>Connects with a connection string plus a SQL login whose password is a
        /// SecureString; the password is in unmanaged memory only during the call. A null or ""
        /// userId adds no credentials (the connection string carries its own).</summary>
        public LinkedServerClient(string connectionString, string userId, SecureString password, string libraryPath)
        {
            if (connectionString == null) throw new ArgumentNullException("connectionString");
            userId = OmittedAsNull(userId);
            library = LinkedServerLibrary.Load(libraryPath);
            IntPtr client;
            IntPtr error;
            int status;
            using (var text = UnmanagedUtf8.ConnectionString(connectionString, userId, password))
            {
                status = library.Connect(text.Pointer, out client, out error);
            }
            if (status != 0) throw library.TakeError(status, error, "lsv_connect");
            handle = new ClientHandle(library, client);
        }

        /// <summary>Connects to an instance by name with encryption and certificate settings.
        /// Without userName (null or ""), Integrated Security (the current Windows or Kerberos
        /// identity) is used.</summary>
        public static LinkedServerClient Connect(string sqlInstance, string userName, SecureString password,
            LinkedServerEncrypt encrypt, bool trustServerCertificate, string libraryPath)
        {
            userName = OmittedAsNull(userName);
            var client = new LinkedServerClient(
                BuildConnectionString(sqlInstance, encrypt, trustServerCertificate, userName == null),
                userName, password, libraryPath);
            client.SqlInstance = sqlInstance;
            return client;
        }

        /// <summary>The connection string Connect uses, without credentials.</summary>
        public static string BuildConnectionString(string sqlInstance, LinkedServerEncrypt encrypt, bool trustServerCertificate,
            bool integratedSecurity)
        {
            if (string.IsNullOrEmpty(sqlInstance)) throw new ArgumentException("An instance name is required.", "sqlInstance");
            var text = new StringBuilder("Server=").Append(QuoteValue(sqlInstance));
            text.Append(";Encrypt=").Append(encrypt.ToString().ToLowerInvariant());
            text.Append(";TrustServerCertificate=").Append(trustServerCertificate ? "true" : "false");
            if (integratedSecurity) text.Append(";Integrated Security=true");
            return text.ToString();
        }

        /// <summary>A connection-string value, double-quoted when it holds characters with a meaning
        /// in connection strings.</summary>
        public static string QuoteValue(string value)
        {
            bool plain = value.Length > 0 && value.Trim() == value &&
                value.IndexOfAny(new[] { ';', '\'', '"', '{', '=' }) < 0;
            return plain ? value : "\"" + value.Replace("\"", "\"\"") + "\"";
        }

        /// <summary>The instance name given to Connect (null for connection-string clients).</summary>
        public string SqlInstance { get; set; }

        /// <summary>The loaded native library (path, ABI and library version).</summary>
        public LinkedServerLibrary Library { get { return library; } }

        /// <summary>True once Dispose was called: new calls throw ObjectDisposedException, and the
        /// connection closes when the calls already running return.</summary>
        public bool IsClosed { get { return disposed || handle.IsClosed; } }

        public override string ToString()
        {
            return SqlInstance ?? "LinkedServerClient";
        }

        /// <summary>lsv_create: creates a linked server; on failure nothing is left behind.</summary>
        public void Create(string name, LinkedServerSpec spec)
        {
            if (spec == null) throw new ArgumentNullException("spec");
            byte[] nameBytes = Utf8.Encode(name, "name");
            byte[] specBytes = Utf8.Encode(spec.ToJson(), "spec");
            Call("lsv_create", (IntPtr c, out IntPtr e) => library.Create(c, nameBytes, specBytes, out e));
        }

        /// <summary>lsv_drop: drops a linked server; dropLogins also removes its login mappings.</summary>
        public void Drop(string name, bool dropLogins)
        {
            byte[] nameBytes = Utf8.Encode(name, "name");
            Call("lsv_drop", (IntPtr c, out IntPtr e) => library.Drop(c, nameBytes, dropLogins ? 1 : 0, out e));
        }

        /// <summary>lsv_map_login: maps localLogin (null or "": every login) to the caller's own
        /// credentials (useSelf) or to remoteUser/remotePassword (user null or "" and password
        /// null: no security context). An empty login name is never valid, so "" (what PowerShell
        /// passes for $null) means null.</summary>
        public void MapLogin(string server, string localLogin, bool useSelf, string remoteUser, SecureString remotePassword)
        {
            byte[] serverBytes = Utf8.Encode(server, "server");
            byte[] localBytes = Utf8.Encode(OmittedAsNull(localLogin), "localLogin");
            byte[] remoteUserBytes = Utf8.Encode(OmittedAsNull(remoteUser), "remoteUser");
            using (var password = UnmanagedUtf8.Secret(remotePassword))
            {
                IntPtr passwordPointer = password == null ? IntPtr.Zero : password.Pointer;
                Call("lsv_map_login", (IntPtr c, out IntPtr e) => library.MapLogin(c, serverBytes, localBytes,
                    useSelf ? 1 : 0, remoteUserBytes, passwordPointer, out e));
            }
        }

        /// <summary>lsv_unmap_login: removes the mapping of localLogin (null or "", which is never
        /// a valid login name: the one for every login).</summary>
        public void UnmapLogin(string server, string localLogin)
        {
            byte[] serverBytes = Utf8.Encode(server, "server");
            byte[] localBytes = Utf8.Encode(OmittedAsNull(localLogin), "localLogin");
            Call("lsv_unmap_login", (IntPtr c, out IntPtr e) => library.UnmapLogin(c, serverBytes, localBytes, out e));
        }

        /// <summary>lsv_set_rpc: sets 'rpc' and/or 'rpc out'; null leaves an option unchanged.</summary>
        public void SetRpc(string server, bool? rpc, bool? rpcOut)
        {
            byte[] serverBytes = Utf8.Encode(server, "server");
            int rpcValue = TriState(rpc);
            int rpcOutValue = TriState(rpcOut);
            Call("lsv_set_rpc", (IntPtr c, out IntPtr e) => library.SetRpc(c, serverBytes, rpcValue, rpcOutValue, out e));
        }

        /// <summary>lsv_set_option: sets one sp_serveroption option (value null or "": NULL).</summary>
        public void SetOption(string server, string option, string value)
        {
            byte[] serverBytes = Utf8.Encode(server, "server");
            byte[] optionBytes = Utf8.Encode(option, "option");
            byte[] valueBytes = Utf8.Encode(OmittedAsNull(value), "value");
            Call("lsv_set_option", (IntPtr c, out IntPtr e) => library.SetOption(c, serverBytes, optionBytes, valueBytes, out e));
        }

        /// <summary>lsv_get: one linked server with options and login mappings.</summary>
        public LinkedServerInfo Get(string server)
        {
            byte[] serverBytes = Utf8.Encode(server, "server");
            IntPtr json = IntPtr.Zero;
            Call("lsv_get", (IntPtr c, out IntPtr e) => library.Get(c, serverBytes, out json, out e));
            return ReadServer(Json.Parse(library.TakeString(json)) as Dictionary<string, object>);
        }

        /// <summary>lsv_list: every linked server, ordered by name.</summary>
        public IList<LinkedServerInfo> List()
        {
            IntPtr json = IntPtr.Zero;
            Call("lsv_list", (IntPtr c, out IntPtr e) => library.List(c, out json, out e));
            var array = Json.Parse(library.TakeString(json)) as List<object>;
            if (array == null) throw new FormatException("lsv_list did not return a JSON array.");
            var servers = new List<LinkedServerInfo>();
            foreach (object item in array) servers.Add(ReadServer(item as Dictionary<string, object>));
            return servers;
        }

        /// <summary>lsv_connection_info: the encryption in force, the TDS version, the server's name
        /// and version (one query).</summary>
        public LinkedServerConnectionInfo GetConnectionInfo()
        {
            IntPtr json = IntPtr.Zero;
            Call("lsv_connection_info", (IntPtr c, out IntPtr e) => library.ConnectionInfo(c, out json, out e));
            var item = Json.Parse(library.TakeString(json)) as Dictionary<string, object>;
            if (item == null) throw new FormatException("lsv_connection_info did not return a JSON object.");
            return new LinkedServerConnectionInfo
            {
                Address = Json.Str(item, "address"),
                Encryption = Json.Str(item, "encryption"),
                Encrypted = Json.Bool(item, "encrypted"),
                CertificateValidated = Json.Bool(item, "certificate_validated"),
                TdsVersion = Json.Str(item, "tds_version"),
                ServerName = Json.Str(item, "server_name"),
                ServerVersion = Json.Str(item, "server_version")
            };
        }

        /// <summary>lsv_test (sp_testlinkedserver): throws when the linked server cannot be reached.</summary>
        public void Test(string server)
        {
            byte[] serverBytes = Utf8.Encode(server, "server");
            Call("lsv_test", (IntPtr c, out IntPtr e) => library.Test(c, serverBytes, out e));
        }

        /// <summary>Like Test, but a failure of the linked server itself (a server error, a
        /// refused remote login, a timeout) is returned as a result; other failures still throw.</summary>
        public LinkedServerTestResult TryTest(string server)
        {
            var result = new LinkedServerTestResult { Name = server, Success = true, Message = string.Empty };
            try
            {
                Test(server);
            }
            catch (LinkedServerException failure)
            {
                if (failure.Status != LinkedServerStatus.Sql && failure.Status != LinkedServerStatus.Authentication &&
                    failure.Status != LinkedServerStatus.Timeout)
                {
                    throw;
                }
                result.Success = false;
                result.Number = failure.Number;
                result.Message = failure.Message;
                result.Exception = failure;
            }
            return result;
        }

        /// <summary>Cancels every call of this client that runs or waits at this moment, with
        /// lsv_cancel: each throws a LinkedServerException with status Cancelled (or an
        /// OperationCanceledException when its CancellationToken asked for it). The client stays
        /// usable; calls that start afterwards are not affected. Callable from any thread; does
        /// nothing when no call runs or the client is disposed.</summary>
        public void Cancel()
        {
            bool referenced = false;
            if (disposed) return;
            try
            {
                handle.DangerousAddRef(ref referenced);
                library.CancelCalls(handle.DangerousGetHandle());
            }
            catch (ObjectDisposedException)
            {
                // Disposed on another thread meanwhile: no call can be running any more.
            }
            finally
            {
                if (referenced) handle.DangerousRelease();
            }
        }

        /// <summary>A token observed by every call of this client: when it is cancelled, the call
        /// running (or about to start) stops with an OperationCanceledException carrying the
        /// token, through Cancel(). A call whose native part has not started yet when the token
        /// fires may still run to its end. Default: CancellationToken.None.</summary>
        public CancellationToken CancellationToken { get; set; }

        /// <summary>lsv_ensure: brings one linked server (a JSON object) or several (an array) to
        /// the desired state in one read and one write; see linkedsrv.h for the JSON. The JSON may
        /// hold remote passwords: build it just before the call and drop it after.</summary>
        public LinkedServerEnsureReport Ensure(string desiredJson, LinkedServerEnsureFlags flags)
        {
            byte[] desiredBytes = Utf8.Encode(desiredJson, "desiredJson");
            IntPtr report = IntPtr.Zero;
            Call("lsv_ensure", (IntPtr c, out IntPtr e) => library.Ensure(c, desiredBytes, (uint)flags, out report, out e));
            string json = library.TakeString(report);
            var item = Json.Parse(json) as Dictionary<string, object>;
            if (item == null) throw new FormatException("lsv_ensure did not return a JSON object.");
            var servers = new List<LinkedServerEnsureResult>();
            foreach (Dictionary<string, object> server in Json.Objects(item, "servers"))
            {
                servers.Add(new LinkedServerEnsureResult
                {
                    Name = Json.Str(server, "name"),
                    Action = Json.Str(server, "action"),
                    Changes = ChangeTexts(server),
                    ChangeDetails = new List<Dictionary<string, object>>(Json.Objects(server, "changes")).AsReadOnly(),
                    Sql = Json.Str(server, "sql")
                });
            }
            return new LinkedServerEnsureReport
            {
                DryRun = Json.Bool(item, "dry_run"),
                Requests = Json.Int(item, "requests"),
                Servers = servers.AsReadOnly(),
                Json = json
            };
        }

        private static ReadOnlyCollection<string> ChangeTexts(Dictionary<string, object> server)
        {
            var texts = new List<string>();
            foreach (Dictionary<string, object> change in Json.Objects(server, "changes")) texts.Add(Json.Str(change, "text"));
            return texts.AsReadOnly();
        }

        /// <summary>lsv_export: a re-runnable T-SQL script re-creating linked server name (null or
        /// "": all of them) with options and mappings; passwords are variables to fill in.</summary>
        public string Export(string name)
        {
            byte[] nameBytes = Utf8.Encode(OmittedAsNull(name), "name");
            IntPtr sql = IntPtr.Zero;
            Call("lsv_export", (IntPtr c, out IntPtr e) => library.Export(c, nameBytes, out sql, out e));
            return library.TakeString(sql);
        }

        /// <summary>lsv_probe: sp_testlinkedserver, then a procedure call through the link; a
        /// failing link is a result with its stage, not an exception.</summary>
        public LinkedServerProbeResult Probe(string server)
        {
            byte[] serverBytes = Utf8.Encode(server, "server");
            IntPtr json = IntPtr.Zero;
            Call("lsv_probe", (IntPtr c, out IntPtr e) => library.Probe(c, serverBytes, out json, out e));
            var item = Json.Parse(library.TakeString(json)) as Dictionary<string, object>;
            if (item == null) throw new FormatException("lsv_probe did not return a JSON object.");
            var result = new LinkedServerProbeResult { Name = server };
            result.ReadProbe(item);
            return result;
        }

        /// <summary>lsv_biztalk_sync: the Backup BizTalk Server pre-step. optionsJson null or "":
        /// the defaults ({"database": "BizTalkMgmtDb", "verify": true, ...}). Per-server failures
        /// are in the report; an exception only when the list or this instance cannot be read.</summary>
        public LinkedServerSyncReport SyncBizTalk(string optionsJson, LinkedServerEnsureFlags flags)
        {
            byte[] optionsBytes = Utf8.Encode(OmittedAsNull(optionsJson), "optionsJson");
            IntPtr report = IntPtr.Zero;
            Call("lsv_biztalk_sync", (IntPtr c, out IntPtr e) => library.BizTalkSync(c, optionsBytes, (uint)flags, out report, out e));
            string json = library.TakeString(report);
            var item = Json.Parse(json) as Dictionary<string, object>;
            if (item == null) throw new FormatException("lsv_biztalk_sync did not return a JSON object.");
            var servers = new List<LinkedServerSyncResult>();
            foreach (Dictionary<string, object> server in Json.Objects(item, "servers"))
            {
                var databases = new List<string>();
                object listed;
                if (server.TryGetValue("databases", out listed) && listed is List<object>)
                {
                    foreach (object database in (List<object>)listed) databases.Add(database as string);
                }
                var result = new LinkedServerSyncResult
                {
                    Name = Json.Str(server, "name"),
                    Databases = databases.AsReadOnly(),
                    Action = Json.Str(server, "action"),
                    Changes = ChangeTexts(server),
                    ChangeDetails = new List<Dictionary<string, object>>(Json.Objects(server, "changes")).AsReadOnly(),
                    Sql = Json.Str(server, "sql")
                };
                result.ReadProbe(server);
                servers.Add(result);
            }
            return new LinkedServerSyncReport
            {
                Ok = Json.Bool(item, "ok"),
                DryRun = Json.Bool(item, "dry_run"),
                Requests = Json.Int(item, "requests"),
                Database = Json.Str(item, "database"),
                JobLogin = Json.Str(item, "job_login"),
                Instance = Json.Str(item, "instance"),
                Servers = servers.AsReadOnly(),
                Json = json
            };
        }

        public void Dispose()
        {
            disposed = true;
            handle.Dispose();
        }

        // PowerShell passes $null to a [string] parameter of a .NET method as "" (PowerShell issue
        // #11515). An empty login or user name is never valid and an empty option value would be
        // refused, so "" is read as the null the caller meant.
        private static string OmittedAsNull(string value)
        {
            return string.IsNullOrEmpty(value) ? null : value;
        }

        private static int TriState(bool? value)
        {
            return value.HasValue ? (value.Value ? 1 : 0) : -1;
        }

        // Holds a reference on the handle for the call, so Dispose on another thread cannot free
        // the client while the library is using it (lsv_client_free must not race with a call).
        private void Call(string function, ClientCall call)
        {
            bool referenced = false;
            int status;
            IntPtr error = IntPtr.Zero;
            if (disposed) throw new ObjectDisposedException(GetType().FullName);
            CancellationToken token = CancellationToken;
            token.ThrowIfCancellationRequested();
            CancellationTokenRegistration registration = token.CanBeCanceled
                ? token.Register(Cancel) : default(CancellationTokenRegistration);
            try
            {
                token.ThrowIfCancellationRequested();
                handle.DangerousAddRef(ref referenced);
                status = call(handle.DangerousGetHandle(), out error);
            }
            finally
            {
                if (referenced) handle.DangerousRelease();
                registration.Dispose();
            }
            if (status == (int)LinkedServerStatus.Cancelled && token.IsCancellationRequested)
            {
                var cancelled = library.TakeError(status, error, function);
                throw new OperationCanceledException(cancelled.Message, cancelled, token);
            }
            if (status != 0) throw library.TakeError(status, error, function);
        }

        private LinkedServerInfo ReadServer(Dictionary<string, object> item)
        {
            if (item == null) throw new FormatException("Expected a linked server JSON object.");
            string name = Json.Str(item, "name");
            var logins = new List<LinkedServerLogin>();
            foreach (Dictionary<string, object> login in Json.Objects(item, "logins"))
            {
                logins.Add(new LinkedServerLogin
                {
                    LinkedServer = name,
                    LocalLogin = Json.Str(login, "local_login"),
                    UsesSelfCredential = Json.Bool(login, "uses_self_credential"),
                    RemoteUser = Json.Str(login, "remote_user"),
                    Connection = this
                });
            }
            string modifyDate = Json.Str(item, "modify_date");
            return new LinkedServerInfo
            {
                ServerId = Json.Int(item, "server_id"),
                Name = name,
                Product = Json.Str(item, "product"),
                Provider = Json.Str(item, "provider"),
                DataSource = Json.Str(item, "data_source"),
                Location = Json.Str(item, "location"),
                ProviderString = Json.Str(item, "provider_string"),
                Catalog = Json.Str(item, "catalog"),
                ConnectTimeout = Json.Int(item, "connect_timeout"),
                QueryTimeout = Json.Int(item, "query_timeout"),
                Rpc = Json.Bool(item, "rpc"),
                RpcOut = Json.Bool(item, "rpc_out"),
                DataAccess = Json.Bool(item, "data_access"),
                CollationCompatible = Json.Bool(item, "collation_compatible"),
                UseRemoteCollation = Json.Bool(item, "use_remote_collation"),
                CollationName = Json.Str(item, "collation_name"),
                LazySchemaValidation = Json.Bool(item, "lazy_schema_validation"),
                IsSystem = Json.Bool(item, "is_system"),
                IsPublisher = Json.Bool(item, "is_publisher"),
                IsSubscriber = Json.Bool(item, "is_subscriber"),
                IsDistributor = Json.Bool(item, "is_distributor"),
                IsNonSqlSubscriber = Json.Bool(item, "is_nonsql_subscriber"),
                RemoteProcTransactionPromotion = Json.Bool(item, "remote_proc_transaction_promotion"),
                ModifyDate = modifyDate == null ? (DateTime?)null
                    : DateTime.Parse(modifyDate, CultureInfo.InvariantCulture, DateTimeStyles.None),
                Logins = logins.AsReadOnly(),
                Connection = this
            };
        }
    }

    /// <summary>UTF-8 conversions for strings that are not secret.</summary>
    internal static class Utf8
    {
        // Strict: an unpaired surrogate is an error, not a silent U+FFFD.
        private static readonly UTF8Encoding strict = new UTF8Encoding(false, true);

        /// <summary>NUL-terminated UTF-8, or null for null (a NULL pointer).</summary>
        internal static byte[] Encode(string text, string parameter)
        {
            if (text == null) return null;
            if (text.IndexOf('\0') >= 0) throw new ArgumentException("The value contains a NUL character.", parameter);
            byte[] bytes;
            try
            {
                bytes = new byte[strict.GetByteCount(text) + 1];
            }
            catch (EncoderFallbackException)
            {
                throw new ArgumentException("The value contains an unpaired UTF-16 surrogate.", parameter);
            }
            strict.GetBytes(text, 0, text.Length, bytes, 0);
            return bytes;
        }

        /// <summary>Copies a NUL-terminated UTF-8 string ("" for NULL); does not free it.</summary>
        internal static string FromNative(IntPtr text)
        {
            if (text == IntPtr.Zero) return string.Empty;
            int length = 0;
            while (Marshal.ReadByte(text, length) != 0) length++;
            var bytes = new byte[length];
            Marshal.Copy(text, bytes, 0, length);
            return Encoding.UTF8.GetString(bytes);
        }
    }

    /// <summary>
    /// A NUL-terminated UTF-8 string in unmanaged memory, for text that may hold a password. It is
    /// encoded straight from a string or from SecureString's unmanaged copy, with no managed byte
    /// array in between, and Dispose zeroes every byte before freeing it.
    /// </summary>
    internal sealed class UnmanagedUtf8 : IDisposable
    {
        private delegate char CharAt(int index);

        private IntPtr pointer;
        private readonly int capacity;
        private int length;

        private UnmanagedUtf8(int maxUtf16Units)
        {
            // 3 bytes cover any UTF-16 unit (a surrogate pair takes 4 bytes for 2 units).
            capacity = checked(maxUtf16Units * 3 + 1);
            pointer = Marshal.AllocHGlobal(capacity);
        }

        internal IntPtr Pointer { get { return pointer; } }

        /// <summary>connectionString plus, when userId is set, ";User ID=...;Password="..."".</summary>
        internal static UnmanagedUtf8 ConnectionString(string connectionString, string userId, SecureString password)
        {
            string prefix = connectionString;
            if (userId != null)
            {
                prefix = connectionString.TrimEnd(' ', ';') + ";User ID=" + LinkedServerClient.QuoteValue(userId) + ";Password=\"";
            }
            int secretLength = userId != null && password != null ? password.Length : 0;
            var text = new UnmanagedUtf8(prefix.Length + 2 * secretLength + 1);
            try
            {
                text.Append(index => prefix[index], prefix.Length, '\0', "connectionString");
                if (userId != null)
                {
                    // Inside "...", a double quote is written twice.
                    if (password != null) text.AppendSecret(password, '"');
                    text.Append(index => '"', 1, '\0', "connectionString");
                }
                text.Terminate();
                return text;
            }
            catch
            {
                text.Dispose();
                throw;
            }
        }

        /// <summary>The password as UTF-8, or null for null.</summary>
        internal static UnmanagedUtf8 Secret(SecureString password)
        {
            if (password == null) return null;
            var text = new UnmanagedUtf8(password.Length);
            try
            {
                text.AppendSecret(password, '\0');
                text.Terminate();
                return text;
            }
            catch
            {
                text.Dispose();
                throw;
            }
        }

        private void AppendSecret(SecureString secret, char doubled)
        {
            IntPtr utf16 = Marshal.SecureStringToGlobalAllocUnicode(secret);
            try
            {
                Append(index => (char)Marshal.ReadInt16(utf16, index * 2), secret.Length, doubled, "password");
            }
            finally
            {
                Marshal.ZeroFreeGlobalAllocUnicode(utf16);
            }
        }

        // The error messages name the parameter, never the text.
        private void Append(CharAt charAt, int count, char doubled, string parameter)
        {
            for (int i = 0; i < count; i++)
            {
                char unit = charAt(i);
                int codePoint = unit;
                if (char.IsHighSurrogate(unit) && i + 1 < count && char.IsLowSurrogate(charAt(i + 1)))
                {
                    codePoint = char.ConvertToUtf32(unit, charAt(i + 1));
                    i++;
                }
                else if (char.IsSurrogate(unit))
                {
                    throw new ArgumentException("The value contains an unpaired UTF-16 surrogate.", parameter);
                }
                if (codePoint == 0) throw new ArgumentException("The value contains a NUL character.", parameter);
                AppendCodePoint(codePoint);
                if (doubled != '\0' && unit == doubled) AppendCodePoint(codePoint);
            }
        }

        private void AppendCodePoint(int codePoint)
        {
            if (codePoint < 0x80)
            {
                Put(codePoint);
            }
            else if (codePoint < 0x800)
            {
                Put(0xC0 | (codePoint >> 6));
                Put(0x80 | (codePoint & 0x3F));
            }
            else if (codePoint < 0x10000)
            {
                Put(0xE0 | (codePoint >> 12));
                Put(0x80 | ((codePoint >> 6) & 0x3F));
                Put(0x80 | (codePoint & 0x3F));
            }
            else
            {
                Put(0xF0 | (codePoint >> 18));
                Put(0x80 | ((codePoint >> 12) & 0x3F));
                Put(0x80 | ((codePoint >> 6) & 0x3F));
                Put(0x80 | (codePoint & 0x3F));
            }
        }

        private void Terminate()
        {
            Put(0);
        }

        private void Put(int value)
        {
            if (length >= capacity) throw new InvalidOperationException("UTF-8 buffer capacity exceeded.");
            Marshal.WriteByte(pointer, length++, (byte)value);
        }

        public void Dispose()
        {
            if (pointer == IntPtr.Zero) return;
            for (int i = 0; i < capacity; i++) Marshal.WriteByte(pointer, i, 0);
            Marshal.FreeHGlobal(pointer);
            pointer = IntPtr.Zero;
        }
    }

    /// <summary>The small JSON subset the library produces and consumes.</summary>
    internal static class Json
    {
        internal static object Parse(string text)
        {
            var reader = new JsonReader(text);
            object value = reader.ReadValue();
            reader.ExpectEnd();
            return value;
        }

        internal static string Str(Dictionary<string, object> item, string key)
        {
            object value;
            if (!item.TryGetValue(key, out value) || value == null) return null;
            var text = value as string;
            if (text == null) throw new FormatException("JSON field '" + key + "' is not a string.");
            return text;
        }

        internal static int Int(Dictionary<string, object> item, string key)
        {
            object value;
            if (!item.TryGetValue(key, out value) || value == null) return 0;
            if (!(value is long)) throw new FormatException("JSON field '" + key + "' is not an integer.");
            return checked((int)(long)value);
        }

        internal static bool Bool(Dictionary<string, object> item, string key)
        {
            object value;
            if (!item.TryGetValue(key, out value) || value == null) return false;
            if (!(value is bool)) throw new FormatException("JSON field '" + key + "' is not a boolean.");
            return (bool)value;
        }

        internal static IEnumerable<Dictionary<string, object>> Objects(Dictionary<string, object> item, string key)
        {
            var result = new List<Dictionary<string, object>>();
            object value;
            if (item == null || !item.TryGetValue(key, out value) || value == null) return result;
            var array = value as List<object>;
            if (array == null) throw new FormatException("JSON field '" + key + "' is not an array.");
            foreach (object element in array)
            {
                var entry = element as Dictionary<string, object>;
                if (entry == null) throw new FormatException("JSON field '" + key + "' holds a non-object.");
                result.Add(entry);
            }
            return result;
        }

        internal static void WriteString(StringBuilder json, string text)
        {
            json.Append('"');
            foreach (char c in text)
            {
                switch (c)
                {
                    case '"': json.Append("\\\""); break;
                    case '\\': json.Append("\\\\"); break;
                    case '\n': json.Append("\\n"); break;
                    case '\r': json.Append("\\r"); break;
                    case '\t': json.Append("\\t"); break;
                    case '\b': json.Append("\\b"); break;
                    case '\f': json.Append("\\f"); break;
                    default:
                        if (c < 0x20) json.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else json.Append(c);
                        break;
                }
            }
            json.Append('"');
        }

        internal static void WriteScalar(StringBuilder json, object value)
        {
            if (value == null) json.Append("null");
            else if (value is bool) json.Append((bool)value ? "true" : "false");
            else if (value is string) WriteString(json, (string)value);
            else if (value is int || value is long || value is short || value is byte || value is uint)
                json.Append(Convert.ToString(value, CultureInfo.InvariantCulture));
            else throw new ArgumentException("Option values must be a bool, an integer, a string or null, not " +
                value.GetType().FullName + ".");
        }

        private sealed class JsonReader
        {
            private readonly string text;
            private int position;

            internal JsonReader(string text)
            {
                this.text = text;
            }

            internal void ExpectEnd()
            {
                SkipSpace();
                if (position != text.Length) throw Error("unexpected text after the value");
            }

            internal object ReadValue()
            {
                SkipSpace();
                if (position >= text.Length) throw Error("unexpected end");
                char c = text[position];
                if (c == '{') return ReadObject();
                if (c == '[') return ReadArray();
                if (c == '"') return ReadString();
                if (c == '-' || (c >= '0' && c <= '9')) return ReadNumber();
                if (TryLiteral("true")) return true;
                if (TryLiteral("false")) return false;
                if (TryLiteral("null")) return null;
                throw Error("unexpected character");
            }

            private Dictionary<string, object> ReadObject()
            {
                var result = new Dictionary<string, object>(StringComparer.Ordinal);
                position++;
                SkipSpace();
                if (Peek() == '}') { position++; return result; }
                while (true)
                {
                    SkipSpace();
                    if (Peek() != '"') throw Error("expected a field name");
                    string key = ReadString();
                    SkipSpace();
                    if (Peek() != ':') throw Error("expected ':'");
                    position++;
                    result[key] = ReadValue();
                    SkipSpace();
                    char next = Peek();
                    position++;
                    if (next == '}') return result;
                    if (next != ',') throw Error("expected ',' or '}'");
                }
            }

            private List<object> ReadArray()
            {
                var result = new List<object>();
                position++;
                SkipSpace();
                if (Peek() == ']') { position++; return result; }
                while (true)
                {
                    result.Add(ReadValue());
                    SkipSpace();
                    char next = Peek();
                    position++;
                    if (next == ']') return result;
                    if (next != ',') throw Error("expected ',' or ']'");
                }
            }

            private string ReadString()
            {
                var result = new StringBuilder();
                position++;
                while (true)
                {
                    if (position >= text.Length) throw Error("unterminated string");
                    char c = text[position++];
                    if (c == '"') return result.ToString();
                    if (c != '\\')
                    {
                        result.Append(c);
                        continue;
                    }
                    if (position >= text.Length) throw Error("unterminated escape");
                    char escape = text[position++];
                    switch (escape)
                    {
                        case '"': result.Append('"'); break;
                        case '\\': result.Append('\\'); break;
                        case '/': result.Append('/'); break;
                        case 'b': result.Append('\b'); break;
                        case 'f': result.Append('\f'); break;
                        case 'n': result.Append('\n'); break;
                        case 'r': result.Append('\r'); break;
                        case 't': result.Append('\t'); break;
                        case 'u':
                            int code;
                            if (position + 4 > text.Length || !int.TryParse(text.Substring(position, 4),
                                NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out code))
                            {
                                throw Error("bad \\u escape");
                            }
                            result.Append((char)code);
                            position += 4;
                            break;
                        default: throw Error("bad escape");
                    }
                }
            }

            // Integers become long, anything with a fraction or exponent double.
            private object ReadNumber()
            {
                int start = position;
                if (Peek() == '-') position++;
                bool integral = true;
                while (position < text.Length)
                {
                    char c = text[position];
                    if (c >= '0' && c <= '9') { position++; continue; }
                    if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') { integral = false; position++; continue; }
                    break;
                }
                string number = text.Substring(start, position - start);
                long whole;
                if (integral && long.TryParse(number, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out whole))
                    return whole;
                double real;
                if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out real)) return real;
                throw Error("bad number");
            }

            private bool TryLiteral(string literal)
            {
                if (string.CompareOrdinal(text, position, literal, 0, literal.Length) != 0) return false;
                position += literal.Length;
                return true;
            }

            private char Peek()
            {
                if (position >= text.Length) throw Error("unexpected end");
                return text[position];
            }

            private void SkipSpace()
            {
                while (position < text.Length && (text[position] == ' ' || text[position] == '\t' ||
                    text[position] == '\n' || text[position] == '\r'))
                {
                    position++;
                }
            }

            private FormatException Error(string problem)
            {
                return new FormatException("Invalid JSON from the library (" + problem + " at offset " +
                    position.ToString(CultureInfo.InvariantCulture) + ").");
            }
        }
    }

    /// <summary>Loading a library by full path and finding its exports, per OS.</summary>
    internal abstract class Platform
    {
        private static Platform current;

        internal static Platform Current
        {
            get
            {
                if (current == null)
                {
                    current = Environment.OSVersion.Platform == PlatformID.Win32NT ? (Platform)new WindowsPlatform()
                        : new UnixPlatform();
                }
                return current;
            }
        }

        internal abstract string RuntimeIdentifier { get; }
        internal abstract string LibraryFileName { get; }
        internal abstract IntPtr Open(string fullPath);
        internal abstract IntPtr Symbol(IntPtr module, string name);
        internal abstract void Close(IntPtr module);

        protected static string ArchitectureName(string machine)
        {
            switch (machine.ToLowerInvariant())
            {
                case "amd64":
                case "x86_64":
                case "x64":
                    return "x64";
                case "x86":
                case "i386":
                case "i486":
                case "i586":
                case "i686":
                    return "x86";
                case "arm64":
                case "aarch64":
                    return "arm64";
                default:
                    return machine.StartsWith("arm", StringComparison.OrdinalIgnoreCase) ? "arm" : machine.ToLowerInvariant();
            }
        }

        protected static DllNotFoundException LoadFailure(string fullPath, string reason)
        {
            return new DllNotFoundException("The linkedsrv native library '" + fullPath + "' could not be loaded: " +
                reason + " Check that the file is the build for runtime " + Current.RuntimeIdentifier + ".");
        }
    }

    internal sealed class WindowsPlatform : Platform
    {
        // Resolve the DLL's own dependencies next to it as well as in the system folders.
        private const uint LoadWithAlteredSearchPath = 0x8;

        [DllImport("kernel32.dll", EntryPoint = "LoadLibraryExW", SetLastError = true, CharSet = CharSet.Unicode)]
        private static extern IntPtr LoadLibraryEx([MarshalAs(UnmanagedType.LPWStr)] string fileName, IntPtr file, uint flags);

        [DllImport("kernel32.dll", EntryPoint = "GetProcAddress", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false)]
        private static extern IntPtr GetProcAddress(IntPtr module, [MarshalAs(UnmanagedType.LPStr)] string name);

        [DllImport("kernel32.dll", EntryPoint = "FreeLibrary", SetLastError = true)]
        private static extern bool FreeLibrary(IntPtr module);

        internal override string RuntimeIdentifier
        {
            get
            {
                // The process's architecture (x86 under WOW64, x64 under ARM64 emulation).
                string machine = Environment.GetEnvironmentVariable("PROCESSOR_ARCHITECTURE");
                if (string.IsNullOrEmpty(machine)) machine = IntPtr.Size == 8 ? "x64" : "x86";
                return "win-" + ArchitectureName(machine);
            }
        }

        internal override string LibraryFileName { get { return "linkedsrv.dll"; } }

        internal override IntPtr Open(string fullPath)
        {
            IntPtr module = LoadLibraryEx(fullPath, IntPtr.Zero, LoadWithAlteredSearchPath);
            if (module == IntPtr.Zero) throw LoadFailure(fullPath, new Win32Exception(Marshal.GetLastWin32Error()).Message);
            return module;
        }

        internal override IntPtr Symbol(IntPtr module, string name)
        {
            return GetProcAddress(module, name);
        }

        internal override void Close(IntPtr module)
        {
            FreeLibrary(module);
        }
    }

    internal sealed class UnixPlatform : Platform
    {
        private const int RtldNow = 2;
        private readonly string systemName;
        private readonly string machine;
        private readonly bool useLibdl;

        // glibc keeps dl* in libdl.so.2 (also a stub since 2.34); musl and macOS have them in libc.
        private static class Libdl
        {
            [DllImport("libdl.so.2", EntryPoint = "dlopen")] internal static extern IntPtr Open([MarshalAs(UnmanagedType.LPStr)] string path, int flags);
            [DllImport("libdl.so.2", EntryPoint = "dlsym")] internal static extern IntPtr Symbol(IntPtr module, [MarshalAs(UnmanagedType.LPStr)] string name);
            [DllImport("libdl.so.2", EntryPoint = "dlclose")] internal static extern int Close(IntPtr module);
            [DllImport("libdl.so.2", EntryPoint = "dlerror")] internal static extern IntPtr Error();
        }

        private static class Libc
        {
            [DllImport("libc", EntryPoint = "dlopen")] internal static extern IntPtr Open([MarshalAs(UnmanagedType.LPStr)] string path, int flags);
            [DllImport("libc", EntryPoint = "dlsym")] internal static extern IntPtr Symbol(IntPtr module, [MarshalAs(UnmanagedType.LPStr)] string name);
            [DllImport("libc", EntryPoint = "dlclose")] internal static extern int Close(IntPtr module);
            [DllImport("libc", EntryPoint = "dlerror")] internal static extern IntPtr Error();
            [DllImport("libc", EntryPoint = "uname")] internal static extern int Uname(IntPtr buffer);
        }

        internal UnixPlatform()
        {
            // struct utsname: five or six fixed-size fields; 65 bytes each on Linux, 256 on the BSDs
            // and macOS. machine is the fifth field.
            IntPtr buffer = Marshal.AllocHGlobal(8192);
            try
            {
                for (int i = 0; i < 8192; i++) Marshal.WriteByte(buffer, i, 0);
                if (Libc.Uname(buffer) != 0) throw new InvalidOperationException("uname() failed.");
                systemName = Utf8.FromNative(buffer);
                int fieldSize = systemName == "Linux" ? 65 : 256;
                machine = Utf8.FromNative(new IntPtr(buffer.ToInt64() + 4 * fieldSize));
            }
            finally
            {
                Marshal.FreeHGlobal(buffer);
            }
            try
            {
                Libdl.Error();
                useLibdl = true;
            }
            catch (DllNotFoundException)
            {
                useLibdl = false;
            }
            catch (EntryPointNotFoundException)
            {
                useLibdl = false;
            }
        }

        private bool IsMac { get { return systemName == "Darwin"; } }

        internal override string RuntimeIdentifier
        {
            get
            {
                string os = IsMac ? "osx" : systemName == "Linux" ? "linux" : systemName.ToLowerInvariant();
                return os + "-" + ArchitectureName(machine);
            }
        }

        internal override string LibraryFileName
        {
            get { return IsMac ? "liblinkedsrv.dylib" : "liblinkedsrv.so"; }
        }

        internal override IntPtr Open(string fullPath)
        {
            IntPtr module = useLibdl ? Libdl.Open(fullPath, RtldNow) : Libc.Open(fullPath, RtldNow);
            if (module == IntPtr.Zero)
            {
                throw LoadFailure(fullPath, Utf8.FromNative(useLibdl ? Libdl.Error() : Libc.Error()) + ".");
            }
            return module;
        }

        internal override IntPtr Symbol(IntPtr module, string name)
        {
            return useLibdl ? Libdl.Symbol(module, name) : Libc.Symbol(module, name);
        }

        internal override void Close(IntPtr module)
        {
            if (useLibdl) Libdl.Close(module);
            else Libc.Close(module);
        }
    }
}
