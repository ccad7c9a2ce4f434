// Tests of LinkedServer.Interop.cs against the real liblinkedsrv and the tds-standin server.
// Compiled together with the interop file (so internal helpers are reachable) by run.sh, which
// also prepares the environment variables read below. C# 5 only, like the interop file.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;
using System.Threading;
using LinkedServer.Interop;

internal static class Tests
{
    private static int passed;
    private static int failed;

    // Set by run.sh.
    private static readonly string ModuleDirectory = Required("LSV_TEST_MODULE_DIR");
    private static readonly string Fixtures = Required("LSV_TEST_FIXTURES");
    private static readonly string ExpectedRid = Required("LSV_TEST_RID");
    private static readonly string Server = Required("LSV_TEST_SERVER");          // tcp:127.0.0.1,PORT
    private static readonly string Certificate = Required("LSV_TEST_CERT");
    private static readonly string Peer = Environment.GetEnvironmentVariable("LSV_TEST_PEER");
    // A stand-in that never answers sp_dropserver.
    private static readonly string StallServer = Required("LSV_TEST_STALL_SERVER");
    private static readonly string StallCertificate = Required("LSV_TEST_STALL_CERT");
    // A freetds.conf whose section "stall" reaches that stand-in: the tests read its counters
    // with FreeTDS tsql. tests/csharp/run.sh sets it; tests/windows (under Wine) does not.
    private static readonly string StallFreeTds = Environment.GetEnvironmentVariable("LSV_TEST_STALL_FREETDS");
    // The library's file name where the tests run (tests/csharp: Linux; tests/windows: Windows).
    private static readonly string LibraryFile = ExpectedRid.StartsWith("win-", StringComparison.Ordinal) ? "linkedsrv.dll" : "liblinkedsrv.so";

    private const string SaPassword = "Str0ng!Passw0rd";
    // A second stand-in login whose password needs connection-string quoting.
    private const string QuoteLogin = "quoter";
    private const string QuotePassword = "Pa\"ss;w'rd={x}";
    private const string ReaderLogin = "reader";
    private const string ReaderPassword = "Read3r!Pass";

    private static string Base
    {
        get { return "Server=" + Server + ";Encrypt=true;ServerCertificate=" + Certificate; }
    }

    private static string SaConnectionString
    {
        get { return Base + ";User ID=sa;Password=" + SaPassword; }
    }

    private static int Main()
    {
        if (Environment.GetEnvironmentVariable(LinkedServerLibrary.PathVariable) != null)
        {
            Console.WriteLine("unset " + LinkedServerLibrary.PathVariable + ": the tests exercise the default path");
            return 2;
        }
        LinkedServerLibrary.DefaultBaseDirectory = ModuleDirectory;

        Run("json writer escapes and keeps non-ASCII", JsonWriter);
        Run("json reader", JsonReader);
        Run("spec and options from PowerShell parameters", FromParameters);
        Run("connection string building and quoting", ConnectionStrings);
        Run("password buffer encoding", PasswordBuffer);
        Run("exception categories and ids", ExceptionMapping);
        Run("argument checks before the call", ArgumentChecks);
        Run("loader: default path and runtime identifier", LoaderDefaults);
        Run("loader: missing library", MissingLibrary);
        Run("loader: file that is not a library", NotALibrary);
        Run("loader: ABI major mismatch", AbiMismatch);
        Run("loader: library without the exports", MissingExport);
        Run("loader: LSV_NATIVE_LIBRARY override", EnvironmentOverride);
        Run("connect failures carry status and SQL number", ConnectFailures);
        Run("connect with SecureString password needing quotes", SecureConnect);
        Run("create, get, list, options, drop", Lifecycle);
        Run("unicode and awkward names", AwkwardNames);
        Run("drop of a missing server", DropMissing);
        Run("errors: duplicate, has logins, bad option, permission", ServerErrors);
        Run("login mappings with a remote password", LoginMappings);
        Run("sp_testlinkedserver", LinkTest);
        Run("ensure, export, probe, BizTalk sync", DesiredState);
        Run("'' from PowerShell's $null means null", EmptyMeansNull);
        Run("8 threads share one client", Threads);
        Run("connection info", ConnectionInfo);
        Run("Cancel interrupts a stalled call", CancelStalledCall);
        Run("CancellationToken interrupts a stalled call", TokenCancelsStalledCall);
        Run("dispose", DisposeClient);
        Run("dispose while 8 threads are calling", DisposeDuringCalls);

        Console.WriteLine(passed + " passed, " + failed + " failed");
        return failed == 0 ? 0 : 1;
    }

    private static void DesiredState()
    {
        using (var client = new LinkedServerClient(SaConnectionString))
        {
            const string desired = "{\"name\":\"CS_ENSURE\",\"options\":{\"rpc out\":true,\"query timeout\":30}," +
                "\"logins\":[{\"local_login\":\"sa\",\"uses_self_credential\":false,\"remote_user\":\"r\"," +
                "\"remote_password\":\"Cs!Secret1\"}]}";
            var dry = client.Ensure(desired, LinkedServerEnsureFlags.DryRun | LinkedServerEnsureFlags.ExactLogins);
            Check(dry.DryRun && dry.Requests == 1, "a dry run reads once");
            Equal("created", dry.Servers[0].Action, "the dry run plans a create");
            Check(!dry.Json.Contains("Cs!Secret1"), "the report holds no password");
            var report = client.Ensure(desired, LinkedServerEnsureFlags.ExactLogins);
            Equal(2, report.Requests, "one read and one write");
            Equal(dry.Servers[0].Sql, report.Servers[0].Sql, "the dry run shows the T-SQL that ran");
            Check(report.Servers[0].Changes.Contains("option 'query timeout': 30"), "changes as sentences");
            Check(report.Servers[0].ChangeDetails.Count == report.Servers[0].Changes.Count, "and as objects");
            var info = client.Get("CS_ENSURE");
            Check(info.RpcOut && info.QueryTimeout == 30, "options set");
            Equal(1, info.Logins.Count, "global mapping dropped, sa mapped");
            var again = client.Ensure(desired, LinkedServerEnsureFlags.ExactLogins);
            Equal("unchanged", again.Servers[0].Action, "converged");
            Equal(1, again.Requests, "converged in one request");

            string script = client.Export("CS_ENSURE");
            Check(script.Contains("N'CS_ENSURE'") && !script.Contains("Cs!Secret1"), "export names the server, no password");
            Check(client.Export(null).Contains("N'CS_ENSURE'"), "export of all servers");

            var probe = client.Probe("CS_ENSURE");
            Check(!probe.Ok && probe.Stage == "network" && probe.Number != 0, "probe of an unreachable link: " + probe);
            var sync = Throws<LinkedServerException>(() => client.SyncBizTalk(null, LinkedServerEnsureFlags.None),
                "no BizTalkMgmtDb: the list cannot be read");
            Equal(LinkedServerStatus.Sql, sync.Status, "an SQL error");
            Throws<LinkedServerException>(() => client.Ensure("{\"name\":\"X\",\"colour\":1}", LinkedServerEnsureFlags.None),
                "unknown member refused");
            // The desired state from a Get-LinkedServer object and from PowerShell-style parameters.
            var copy = LinkedServerDesired.FromParameters(null, info, new Dictionary<string, object>()).ToJson();
            Equal("unchanged", client.Ensure(copy, LinkedServerEnsureFlags.ExactLogins).Servers[0].Action,
                "the object read back is the state it came from");
            var password = new SecureString();
            foreach (char c in "Cs!Secret2") password.AppendChar(c);
            var table = new System.Collections.Hashtable();
            table["LocalLogin"] = "sa";
            table["RemoteUser"] = "r2";
            table["RemotePassword"] = password;
            var options = new System.Collections.Hashtable();
            options["query timeout"] = 45;
            var bound = new Dictionary<string, object>();
            bound["Option"] = options;
            bound["Login"] = new object[] { table };
            string changed = LinkedServerDesired.FromParameters("CS_ENSURE", null, bound).ToJson();
            var result = client.Ensure(changed, LinkedServerEnsureFlags.None);
            Equal("updated", result.Servers[0].Action, "options and a mapping from parameters");
            Check(!result.Json.Contains("Cs!Secret2"), "no password in the report");
            info = client.Get("CS_ENSURE");
            Check(info.QueryTimeout == 45 && info.Logins[0].RemoteUser == "r2", "applied");
            client.Drop("CS_ENSURE", true);
        }
    }

    // ---- assert helpers -------------------------------------------------------------------

    private static string Required(string name)
    {
        string value = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrEmpty(value)) throw new InvalidOperationException(name + " is not set (run tests/csharp/run.sh)");
        return value;
    }

    private static void Run(string name, Action test)
    {
        Console.WriteLine("== " + name);
        try
        {
            test();
        }
        catch (Exception e)
        {
            Interlocked.Increment(ref failed);
            Console.WriteLine("FAIL " + name + ": unexpected " + e);
        }
    }

    private static void Check(bool condition, string what)
    {
        if (condition)
        {
            Interlocked.Increment(ref passed);
            return;
        }
        Interlocked.Increment(ref failed);
        Console.WriteLine("FAIL " + what);
    }

    private static void Equal<T>(T expected, T actual, string what)
    {
        Check(EqualityComparer<T>.Default.Equals(expected, actual),
            what + ": expected <" + expected + ">, got <" + actual + ">");
    }

    private static void Contains(string needle, string haystack, string what)
    {
        Check(haystack != null && haystack.Contains(needle), what + ": <" + haystack + "> lacks <" + needle + ">");
    }

    private static T Throws<T>(Action action, string what) where T : Exception
    {
        try
        {
            action();
        }
        catch (T expected)
        {
            Interlocked.Increment(ref passed);
            return expected;
        }
        catch (Exception other)
        {
            Interlocked.Increment(ref failed);
            Console.WriteLine("FAIL " + what + ": expected " + typeof(T).Name + ", got " + other);
            return null;
        }
        Interlocked.Increment(ref failed);
        Console.WriteLine("FAIL " + what + ": expected " + typeof(T).Name + ", nothing thrown");
        return null;
    }

    private static LinkedServerException Fails(LinkedServerStatus status, int number, Action action, string what)
    {
        var error = Throws<LinkedServerException>(action, what);
        if (error == null) return null;
        Equal(status, error.Status, what + " status");
        if (number >= 0) Equal(number, error.Number, what + " SQL number");
        return error;
    }

    private static SecureString Secure(string text)
    {
        var secure = new SecureString();
        foreach (char c in text) secure.AppendChar(c);
        secure.MakeReadOnly();
        return secure;
    }

    private static LinkedServerClient Sa()
    {
        return new LinkedServerClient(SaConnectionString);
    }

    private static LinkedServerInfo Find(IList<LinkedServerInfo> servers, string name)
    {
        foreach (LinkedServerInfo server in servers) if (server.Name == name) return server;
        return null;
    }

    // ---- pure managed parts ---------------------------------------------------------------

    private static void JsonWriter()
    {
        var spec = new LinkedServerSpec
        {
            Product = "",
            Provider = "MSOLEDBSQL",
            DataSource = "host\\inst \"q\"\n\t\u0001Zürich 東京 😀"
        };
        spec.Options["rpc out"] = true;
        spec.Options["query timeout"] = 30;
        spec.Options["collation name"] = null;
        Equal("{\"product\":\"\",\"provider\":\"MSOLEDBSQL\",\"data_source\":\"host\\\\inst \\\"q\\\"\\n\\t\\u0001Zürich 東京 😀\"," +
            "\"options\":{\"rpc out\":true,\"query timeout\":30,\"collation name\":null}}", spec.ToJson(), "spec JSON");
        Equal("{\"product\":\"SQL Server\"}", new LinkedServerSpec { Product = "SQL Server" }.ToJson(), "minimal spec JSON");
        var secret = new LinkedServerSpec { Product = "", Provider = "MSOLEDBSQL", ProviderString = "UID=u;PWD=secret" };
        secret.Options["provider string"] = "PWD=secret2";
        Contains("PWD=secret", secret.ToJson(), "the library gets the provider string");
        Check(!secret.ToString().Contains("secret"), "ToString (for -Verbose) masks provider strings: " + secret);
        Contains("\"provider_string\":\"(not shown)\"", secret.ToString(), "masked field still named");
        var bad = new LinkedServerSpec { Product = "SQL Server" };
        bad.Options["rpc"] = 1.5;
        Throws<ArgumentException>(() => bad.ToJson(), "fractional option value refused");
        // The JSON reader must read back what the writer wrote.
        var back = (Dictionary<string, object>)Json.Parse(spec.ToJson());
        Equal(spec.DataSource, (string)back["data_source"], "writer/reader round trip");
    }

    private static void JsonReader()
    {
        var value = (Dictionary<string, object>)Json.Parse(
            " {\"a\": [1, -2, 3.5e1, true, false, null], \"s\": \"\\u00e9\\ud83d\\ude00\\/\\\\\\\"x\", \"o\": {}} ");
        var list = (List<object>)value["a"];
        Equal(6, list.Count, "array length");
        Equal(1L, (long)list[0], "integer");
        Equal(-2L, (long)list[1], "negative integer");
        Equal(35.0, (double)list[2], "exponent");
        Equal(true, (bool)list[3], "true");
        Check(list[5] == null, "null");
        Equal("é😀/\\\"x", (string)value["s"], "escapes and surrogate pair");
        Equal(0, ((Dictionary<string, object>)value["o"]).Count, "empty object");
        foreach (string broken in new[] { "", "{", "[1,]", "{\"a\" 1}", "\"open", "tru", "{} x", "\"\\q\"" })
        {
            string input = broken;
            Throws<FormatException>(() => Json.Parse(input), "malformed JSON <" + input + ">");
        }
    }

    private static void FromParameters()
    {
        var bound = new Dictionary<string, object>
        {
            { "Name", "S1" }, { "Product", "" }, { "Provider", "MSOLEDBSQL" }, { "DataSource", "h,1433" },
            { "ProviderString", "Encrypt=yes" }, { "RpcOut", true }, { "QueryTimeout", 30 }, { "CollationName", "" },
            { "Connection", null }, { "Verbose", true }
        };
        var spec = LinkedServerSpec.FromParameters(bound);
        Equal("", spec.Product, "empty product kept");
        Equal("MSOLEDBSQL", spec.Provider, "provider");
        Equal("h,1433", spec.DataSource, "data source");
        Equal("Encrypt=yes", spec.ProviderString, "provider string is a spec field");
        Check(spec.Location == null && spec.Catalog == null, "unbound fields stay unset");
        Equal(3, spec.Options.Count, "options: rpc out, query timeout, collation name");
        Equal(true, (bool)spec.Options["rpc out"], "rpc out option");
        Equal(30, (int)spec.Options["query timeout"], "query timeout option");
        Check(spec.Options["collation name"] == null, "'' from PowerShell means NULL");
        Check(!spec.Options.ContainsKey("provider string"), "provider string not duplicated as an option");

        var changes = LinkedServerOptions.FromParameters(bound);
        var names = new List<string>();
        foreach (var change in changes) names.Add(change.Key);
        Equal("rpc out|collation name|query timeout|provider string", string.Join("|", names.ToArray()), "option order");
        Equal("true", LinkedServerOptions.FormatValue(true), "bool value");
        Equal("false", LinkedServerOptions.FormatValue(false), "false value");
        Equal("30", LinkedServerOptions.FormatValue(30), "int value");
        Check(LinkedServerOptions.FormatValue(null) == null, "null value");
        Throws<ArgumentException>(() => LinkedServerOptions.FormatValue(1.5), "double refused");
        Equal("'true'", LinkedServerOptions.DisplayValue("rpc out", "true"), "shown value");
        Equal("NULL", LinkedServerOptions.DisplayValue("collation name", null), "shown NULL");
        Equal("(not shown)", LinkedServerOptions.DisplayValue("Provider String", "PWD=x"), "provider string hidden");
        Equal(15, LinkedServerOptions.ParameterNames.Length, "every sp_serveroption option but 'system'");
    }

    private static void ConnectionStrings()
    {
        Equal("Server=SQL01\\BTS;Encrypt=mandatory;TrustServerCertificate=false;Integrated Security=true",
            LinkedServerClient.BuildConnectionString("SQL01\\BTS", LinkedServerEncrypt.Mandatory, false, true), "integrated");
        Equal("Server=tcp:h,1433;Encrypt=strict;TrustServerCertificate=true",
            LinkedServerClient.BuildConnectionString("tcp:h,1433", LinkedServerEncrypt.Strict, true, false), "sql login");
        Equal("\"a;b\"\"c\"", LinkedServerClient.QuoteValue("a;b\"c"), "quoted value");
        Equal("\" padded \"", LinkedServerClient.QuoteValue(" padded "), "padded value");
        Equal("plain", LinkedServerClient.QuoteValue("plain"), "plain value");
        Throws<ArgumentException>(() => LinkedServerClient.BuildConnectionString("", LinkedServerEncrypt.Mandatory, false, true),
            "empty instance");
    }

    private static string ReadUnmanaged(IntPtr pointer)
    {
        return Utf8.FromNative(pointer);
    }

    private static void PasswordBuffer()
    {
        using (var text = UnmanagedUtf8.ConnectionString("Server=x;", "us;er", Secure("a\"b;é😀")))
        {
            Equal("Server=x;User ID=\"us;er\";Password=\"a\"\"b;é😀\"", ReadUnmanaged(text.Pointer), "connection string with secret");
        }
        using (var text = UnmanagedUtf8.ConnectionString("Server=x", null, null))
        {
            Equal("Server=x", ReadUnmanaged(text.Pointer), "connection string unchanged without user");
        }
        using (var secret = UnmanagedUtf8.Secret(Secure("p'a;ss\"東")))
        {
            IntPtr pointer = secret.Pointer;
            var expected = Encoding.UTF8.GetBytes("p'a;ss\"東");
            bool same = true;
            for (int i = 0; i < expected.Length; i++) same &= Marshal.ReadByte(pointer, i) == expected[i];
            Check(same && Marshal.ReadByte(pointer, expected.Length) == 0, "secret is NUL-terminated UTF-8");
        }
        Check(UnmanagedUtf8.Secret(null) == null, "null password is a NULL pointer");
        var lone = new SecureString();
        lone.AppendChar('a');
        lone.AppendChar('\ud800');
        var error = Throws<ArgumentException>(() => UnmanagedUtf8.Secret(lone), "unpaired surrogate in a password");
        if (error != null) Check(!error.Message.Contains("a\ud800"), "message does not echo the password");
        var withNul = Secure("a\0b");
        Throws<ArgumentException>(() => UnmanagedUtf8.Secret(withNul), "NUL in a password");
    }

    private static void ExceptionMapping()
    {
        var expected = new Dictionary<LinkedServerStatus, string>
        {
            { LinkedServerStatus.InvalidArgument, "InvalidArgument" },
            { LinkedServerStatus.NotFound, "ObjectNotFound" },
            { LinkedServerStatus.AlreadyExists, "ResourceExists" },
            { LinkedServerStatus.HasLogins, "ResourceBusy" },
            { LinkedServerStatus.PermissionDenied, "PermissionDenied" },
            { LinkedServerStatus.Sql, "NotSpecified" },
            { LinkedServerStatus.Connection, "ConnectionError" },
            { LinkedServerStatus.Tls, "SecurityError" },
            { LinkedServerStatus.Authentication, "AuthenticationError" },
            { LinkedServerStatus.Timeout, "OperationTimeout" },
            { LinkedServerStatus.Internal, "NotSpecified" },
            { LinkedServerStatus.InvalidHandle, "InvalidOperation" },
            { LinkedServerStatus.Unsupported, "NotImplemented" }
        };
        foreach (var pair in expected)
        {
            var error = new LinkedServerException(pair.Key, "m", 0, 0, 0, null, 0, null);
            Equal(pair.Value, error.ErrorCategory, "category of " + pair.Key);
            Equal("LinkedServer." + pair.Key, error.ErrorId, "id of " + pair.Key);
        }
        Equal("LinkedServer.NotFound.15015",
            new LinkedServerException(LinkedServerStatus.NotFound, "m", 15015, 16, 1, "sp_dropserver", 0, null).ErrorId,
            "id carries the SQL number");
    }

    private static void ArgumentChecks()
    {
        var error = Throws<ArgumentException>(() => Utf8.Encode("a\0b", "name"), "NUL inside a name");
        if (error != null) Equal("name", error.ParamName, "parameter named");
        Throws<ArgumentException>(() => Utf8.Encode("a\udc00", "name"), "unpaired surrogate in a name");
        Check(Utf8.Encode(null, "name") == null, "null is a NULL pointer");
        var bytes = Utf8.Encode("Zü", "name");
        Equal("5a-c3-bc-00", BitConverter.ToString(bytes).ToLowerInvariant(), "UTF-8 with terminator");
    }

    // ---- loader ---------------------------------------------------------------------------

    private static void LoaderDefaults()
    {
        Equal(ExpectedRid, LinkedServerLibrary.RuntimeIdentifier, "runtime identifier");
        Equal(LibraryFile, LinkedServerLibrary.FileName, "file name");
        string expectedPath = Path.Combine(Path.Combine(ModuleDirectory, ExpectedRid), LibraryFile);
        Equal(expectedPath, LinkedServerLibrary.DefaultPath, "default path in the module folder");
        var library = LinkedServerLibrary.Load(null);
        Equal(Path.GetFullPath(expectedPath), library.Path, "loaded from the module folder");
        Equal(1u, library.AbiVersion >> 16, "ABI major");
        Check(library.Version.Length > 0, "lsv_version not empty: " + library.Version);
        Check(ReferenceEquals(library, LinkedServerLibrary.Load(expectedPath)), "loaded once per path");
        Check(ReferenceEquals(library, LinkedServerLibrary.Load("")), "'' (an unbound PowerShell [string]) means the default path");
    }

    private static void MissingLibrary()
    {
        string saved = LinkedServerLibrary.DefaultBaseDirectory;
        string empty = Path.Combine(Fixtures, "empty-module");
        Directory.CreateDirectory(empty);
        LinkedServerLibrary.DefaultBaseDirectory = empty;
        try
        {
            var error = Throws<DllNotFoundException>(() => new LinkedServerClient(SaConnectionString), "no library in the module folder");
            if (error == null) return;
            Contains(Path.Combine(Path.Combine(empty, ExpectedRid), LibraryFile), error.Message, "message names the expected path");
            Contains(LinkedServerLibrary.PathVariable, error.Message, "message names the override");
        }
        finally
        {
            LinkedServerLibrary.DefaultBaseDirectory = saved;
        }
    }

    private static void NotALibrary()
    {
        string path = Path.Combine(Fixtures, "not-a-library" + Path.GetExtension(LibraryFile));
        var error = Throws<DllNotFoundException>(() => LinkedServerLibrary.Load(path), "text file as library");
        if (error == null) return;
        Contains("could not be loaded", error.Message, "load failure message");
        Contains(path, error.Message, "load failure names the file");
        Contains(ExpectedRid, error.Message, "load failure names the runtime");
    }

    private static void AbiMismatch()
    {
        string path = Path.Combine(Path.Combine(Fixtures, "abi2"), LibraryFile);
        var error = Throws<NotSupportedException>(() => new LinkedServerClient(SaConnectionString, path), "ABI 2 library");
        if (error == null) return;
        Contains("implements linkedsrv ABI 2.0", error.Message, "mismatch message names the library ABI");
        Contains("needs ABI 1.x", error.Message, "mismatch message names the binding ABI");
        Contains(path, error.Message, "mismatch message names the file");
        // A failed load is not cached: the same path fails the same way again.
        Throws<NotSupportedException>(() => LinkedServerLibrary.Load(path), "ABI 2 library again");
    }

    private static void MissingExport()
    {
        string path = Path.Combine(Path.Combine(Fixtures, "abi-only"), LibraryFile);
        var error = Throws<EntryPointNotFoundException>(() => LinkedServerLibrary.Load(path), "library with only lsv_abi_version");
        if (error != null) Contains("'lsv_version'", error.Message, "missing export named");
    }

    private static void EnvironmentOverride()
    {
        string path = Path.Combine(Path.Combine(Fixtures, "abi2"), LibraryFile);
        Environment.SetEnvironmentVariable(LinkedServerLibrary.PathVariable, path);
        try
        {
            Equal(path, LinkedServerLibrary.DefaultPath, "override path");
            Throws<NotSupportedException>(() => Sa(), "client honours the override");
        }
        finally
        {
            Environment.SetEnvironmentVariable(LinkedServerLibrary.PathVariable, null);
        }
    }

    // ---- against the stand-in -------------------------------------------------------------

    private static void ConnectFailures()
    {
        var error = Fails(LinkedServerStatus.Authentication, 18456,
            () => new LinkedServerClient(Base + ";User ID=sa;Password=wrong").Dispose(), "wrong password");
        if (error != null)
        {
            Check(error.ServerMessages.Count > 0, "login failure carries the server message");
            Check(!error.Message.Contains("wrong"), "login failure does not echo the password");
        }
        Fails(LinkedServerStatus.InvalidArgument, 0,
            () => new LinkedServerClient("Server=" + Server + ";Colour=blue;User ID=sa;Password=x").Dispose(), "unknown keyword");
        Fails(LinkedServerStatus.Tls, -1,
            () => new LinkedServerClient("Server=" + Server + ";Encrypt=true;User ID=sa;Password=" + SaPassword).Dispose(),
            "self-signed certificate refused by default");
        Fails(LinkedServerStatus.Connection, 0,
            () => new LinkedServerClient("Server=tcp:127.0.0.1,1;Encrypt=true;User ID=sa;Password=x;Connect Timeout=5").Dispose(),
            "closed port");
        Throws<ArgumentNullException>(() => new LinkedServerClient(null), "null connection string");
    }

    private static void SecureConnect()
    {
        using (var client = new LinkedServerClient(Base, QuoteLogin, Secure(QuotePassword), null))
        {
            Check(client.List() != null, "login with quoted SecureString password works");
        }
        Fails(LinkedServerStatus.Authentication, 18456,
            () => new LinkedServerClient(Base, QuoteLogin, Secure(QuotePassword + "x"), null).Dispose(), "wrong SecureString password");
        using (var client = new LinkedServerClient(Base + ";", "sa", Secure(SaPassword), null))
        {
            Check(!client.IsClosed, "trailing ';' before the appended credentials");
        }
        // Connect(instance...) as Connect-LinkedServerInstance -SqlInstance uses it.
        Fails(LinkedServerStatus.Tls, -1,
            () => LinkedServerClient.Connect(Server, "sa", Secure(SaPassword), LinkedServerEncrypt.Mandatory, false, null).Dispose(),
            "instance connect validates the certificate");
        using (var client = LinkedServerClient.Connect(Server, QuoteLogin, Secure(QuotePassword), LinkedServerEncrypt.Mandatory, true, null))
        {
            Equal(Server, client.SqlInstance, "instance name kept");
            Equal(Server, client.ToString(), "client text is the instance");
            Check(client.List() != null, "instance connect with TrustServerCertificate");
        }
    }

    private static void Lifecycle()
    {
        using (var client = Sa())
        {
            client.Create("LIFE1", new LinkedServerSpec { Product = "SQL Server" });
            var life = client.Get("LIFE1");
            Equal("LIFE1", life.Name, "name");
            Equal("SQL Server", life.Product, "product");
            Check(life.ServerId > 0, "server id");
            Check(life.ModifyDate.HasValue, "modify date parsed");
            Check(ReferenceEquals(client, life.Connection), "snapshot carries its connection");
            Equal(1, life.Logins.Count, "default mapping after create");
            if (life.Logins.Count == 1)
            {
                Check(life.Logins[0].LocalLogin == null && life.Logins[0].UsesSelfCredential, "default self mapping for every login");
                Equal("LIFE1", life.Logins[0].LinkedServer, "login carries the server name");
                Equal("* -> (self)", life.Logins[0].ToString(), "login text");
            }

            var spec = new LinkedServerSpec { Product = "", Provider = "MSOLEDBSQL", DataSource = "host\\inst,1433", Catalog = "master" };
            spec.Options["rpc out"] = true;
            spec.Options["query timeout"] = 30;
            client.Create("LIFE2", spec);
            var life2 = client.Get("LIFE2");
            Equal("MSOLEDBSQL", life2.Provider, "provider");
            Equal("host\\inst,1433", life2.DataSource, "data source with backslash");
            Equal("master", life2.Catalog, "catalog");
            Check(life2.RpcOut, "rpc out from the spec");
            Equal(30, life2.QueryTimeout, "query timeout from the spec");

            client.SetRpc("LIFE1", false, false);
            var off = client.Get("LIFE1");
            Check(!off.Rpc && !off.RpcOut, "rpc and rpc out off");
            client.SetRpc("LIFE1", true, null);
            var rpcOnly = client.Get("LIFE1");
            Check(rpcOnly.Rpc && !rpcOnly.RpcOut, "rpc on, rpc out left off by null");
            client.SetRpc("LIFE1", null, true);
            var both = client.Get("LIFE1");
            Check(both.Rpc && both.RpcOut, "rpc out on, rpc left on by null");
            client.SetRpc("LIFE1", false, null);
            var outOnly = client.Get("LIFE1");
            Check(!outOnly.Rpc && outOnly.RpcOut, "rpc off, rpc out left on");

            client.SetOption("LIFE1", "data access", "false");
            Check(!client.Get("LIFE1").DataAccess, "data access off");
            client.SetOption("LIFE1", "connect timeout", "17");
            Equal(17, client.Get("LIFE1").ConnectTimeout, "connect timeout");
            client.SetOption("LIFE1", "lazy schema validation", LinkedServerOptions.FormatValue(true));
            Check(client.Get("LIFE1").LazySchemaValidation, "lazy schema validation");

            var all = client.List();
            var names = new List<string>();
            foreach (var server in all) names.Add(server.Name);
            Check(Find(all, "LIFE1") != null && Find(all, "LIFE2") != null, "list has both: " + string.Join(",", names.ToArray()));
            Check(Find(all, "MGMT") == null, "list leaves out the local server row");
            var sorted = new List<string>(names);
            sorted.Sort(StringComparer.OrdinalIgnoreCase);
            Equal(string.Join(",", sorted.ToArray()), string.Join(",", names.ToArray()), "list ordered by name");

            client.Drop("LIFE1", false);
            client.Drop("LIFE2", false);
            Fails(LinkedServerStatus.NotFound, -1, () => client.Get("LIFE1"), "get after drop");
        }
    }

    private static void AwkwardNames()
    {
        var names = new[] { "Zürich", "東京", "a'b]c;--d", "[x]] ; DROP LOGIN sa; --", "😀 emoji" };
        using (var client = Sa())
        {
            foreach (string name in names)
            {
                client.Create(name, new LinkedServerSpec { Product = "", Provider = "MSOLEDBSQL", DataSource = name + "\\inst" });
                var info = client.Get(name);
                Equal(name, info.Name, "round trip of " + name);
                Equal(name + "\\inst", info.DataSource, "data source of " + name);
                client.SetRpc(name, true, true);
                Check(client.Get(name).RpcOut, "rpc out on " + name);
            }
            var listed = client.List();
            foreach (string name in names) Check(Find(listed, name) != null, "listed: " + name);
            foreach (string name in names) client.Drop(name, true);
            var after = client.List();
            foreach (string name in names) Check(Find(after, name) == null, "dropped: " + name);
        }
        using (var client = Sa())
        {
            Check(client.List() != null, "sa can still log in after the injection-shaped names");
        }
    }

    private static void DropMissing()
    {
        using (var client = Sa())
        {
            var error = Fails(LinkedServerStatus.NotFound, 15015, () => client.Drop("NoSuchServer", false), "drop missing server");
            if (error == null) return;
            Equal("ObjectNotFound", error.ErrorCategory, "category");
            Equal("LinkedServer.NotFound.15015", error.ErrorId, "error id");
            Check(!error.OutcomeUncertain && !error.UndoFailed, "a refused drop changed nothing for certain");
            Equal(16, error.Severity, "severity");
            Check(error.State >= 1, "state set");
            Contains("sp_dropserver", error.Procedure, "procedure");
            Contains("NoSuchServer", error.Message, "message names the server");
            Check(error.ServerMessages.Count >= 1, "server messages kept");
            if (error.ServerMessages.Count >= 1)
            {
                Equal(15015, error.ServerMessages[0].Number, "first server message number");
                Contains("NoSuchServer", error.ServerMessages[0].Message, "server message text");
                Equal("MGMT", error.ServerMessages[0].Server, "server name in the message");
            }
        }
    }

    private static void ServerErrors()
    {
        using (var client = Sa())
        {
            client.Create("ERR1", new LinkedServerSpec { Product = "SQL Server" });
            Fails(LinkedServerStatus.AlreadyExists, 15028, () => client.Create("ERR1", new LinkedServerSpec { Product = "SQL Server" }),
                "duplicate create");
            client.MapLogin("ERR1", "sa", false, "remote", Secure("x"));
            Fails(LinkedServerStatus.HasLogins, 15190, () => client.Drop("ERR1", false), "drop with logins");
            Check(client.Get("ERR1") != null, "still there after the refused drop");
            Fails(LinkedServerStatus.InvalidArgument, 0, () => client.SetOption("ERR1", "rpcout", "true"), "unknown option");
            Fails(LinkedServerStatus.InvalidArgument, 0, () => client.SetOption("ERR1", "query timeout", "-1"), "negative timeout");
            Fails(LinkedServerStatus.InvalidArgument, 0, () => client.Drop(null, false), "NULL name");
            Fails(LinkedServerStatus.InvalidArgument, 0, () => client.Create("", new LinkedServerSpec { Product = "SQL Server" }), "empty name");
            Fails(LinkedServerStatus.InvalidArgument, 0, () => client.Create(new string('n', 129), new LinkedServerSpec { Product = "SQL Server" }),
                "129-character name");
            var unknownField = new LinkedServerSpec { Product = "SQL Server" };
            unknownField.Options["no such option"] = true;
            Fails(LinkedServerStatus.InvalidArgument, 0, () => client.Create("ERR2", unknownField), "unknown option in spec");
            Fails(LinkedServerStatus.NotFound, -1, () => client.Get("ERR2"), "nothing left behind by a refused create");
            client.Drop("ERR1", true);
        }
        using (var reader = new LinkedServerClient(Base, ReaderLogin, Secure(ReaderPassword), null))
        {
            var error = Fails(LinkedServerStatus.PermissionDenied, -1, () => reader.Create("DENIED", new LinkedServerSpec { Product = "SQL Server" }),
                "create without ALTER ANY LINKED SERVER");
            if (error != null) Equal("PermissionDenied", error.ErrorCategory, "permission category");
        }
    }

    private static void LoginMappings()
    {
        const string password = "p'a;ss\"w{}rd--";
        using (var client = Sa())
        {
            client.Create("MAP1", new LinkedServerSpec { Product = "SQL Server" });
            client.MapLogin("MAP1", "sa", false, "remote'user;x", Secure(password));
            var info = client.Get("MAP1");
            LinkedServerLogin mapped = null;
            foreach (var login in info.Logins) if (login.LocalLogin == "sa") mapped = login;
            Check(mapped != null, "mapping for sa listed");
            if (mapped != null)
            {
                Equal("remote'user;x", mapped.RemoteUser, "remote user");
                Check(!mapped.UsesSelfCredential, "not self");
                Equal("sa -> remote'user;x", mapped.ToString(), "login text");
            }
            Check(!Dump(info).Contains("p'a;ss"), "no property of the snapshot holds the password");

            client.MapLogin("MAP1", null, true, null, null);
            client.MapLogin("MAP1", "sa", true, null, null);
            info = client.Get("MAP1");
            foreach (var login in info.Logins)
            {
                if (login.LocalLogin == "sa") Check(login.UsesSelfCredential && login.RemoteUser == null, "sa remapped to self");
            }

            client.UnmapLogin("MAP1", "sa");
            client.UnmapLogin("MAP1", null);
            Equal(0, client.Get("MAP1").Logins.Count, "every mapping removed");
            client.MapLogin("MAP1", null, false, null, null);
            info = client.Get("MAP1");
            Check(info.Logins.Count == 1 && !info.Logins[0].UsesSelfCredential && info.Logins[0].RemoteUser == null,
                "mapping without security context");
            Equal("* -> (no security context)", info.Logins[0].ToString(), "no-context text");
            Fails(LinkedServerStatus.NotFound, 15015, () => client.MapLogin("NoSuchServer", null, true, null, null), "map on a missing server");
            client.Drop("MAP1", true);
        }
    }

    // PowerShell passes $null to a [string] method parameter as "": these calls are what the
    // module's commands make when -Credential, -LocalLogin or -CollationName is left out.
    private static void EmptyMeansNull()
    {
        using (var client = new LinkedServerClient(SaConnectionString, "", null, null))
        {
            Check(client.List() != null, "'' user id adds no credentials to a connection string that has them");
        }
        Equal(ConnectOutcome(null), ConnectOutcome(""), "Connect with '' user name is Integrated Security, as with null");
        using (var client = Sa())
        {
            client.Create("EMPTY1", new LinkedServerSpec { Product = "SQL Server" });
            client.UnmapLogin("EMPTY1", "");
            Equal(0, client.Get("EMPTY1").Logins.Count, "UnmapLogin '' removes the every-login mapping");
            client.MapLogin("EMPTY1", "", false, "", null);
            var info = client.Get("EMPTY1");
            Check(info.Logins.Count == 1 && info.Logins[0].LocalLogin == null && !info.Logins[0].UsesSelfCredential &&
                info.Logins[0].RemoteUser == null, "MapLogin '' with '' remote user: every login, no security context");
            client.MapLogin("EMPTY1", "", true, "", null);
            info = client.Get("EMPTY1");
            Check(info.Logins.Count == 1 && info.Logins[0].LocalLogin == null && info.Logins[0].UsesSelfCredential,
                "MapLogin '' with useSelf: every login as itself");

            client.SetOption("EMPTY1", "collation name", "Latin1_General_CI_AS");
            Equal("Latin1_General_CI_AS", client.Get("EMPTY1").CollationName, "collation name set");
            client.SetOption("EMPTY1", "collation name", "");
            Check(client.Get("EMPTY1").CollationName == null, "SetOption collation name '' sets NULL");
            client.Drop("EMPTY1", true);
        }
    }

    // "connected" or the status Connect fails with (Integrated Security needs Windows).
    private static string ConnectOutcome(string userName)
    {
        try
        {
            LinkedServerClient.Connect(Server, userName, null, LinkedServerEncrypt.Mandatory, true, null).Dispose();
            return "connected";
        }
        catch (LinkedServerException e)
        {
            return e.Status.ToString();
        }
    }

    private static string Dump(object value)
    {
        var text = new StringBuilder();
        foreach (PropertyInfo property in value.GetType().GetProperties())
        {
            if (property.Name == "Connection") continue;
            object item = property.GetValue(value, null);
            var list = item as System.Collections.IEnumerable;
            if (list != null && !(item is string))
            {
                foreach (object element in list) text.Append(Dump(element));
            }
            text.Append(property.Name).Append('=').Append(item).Append(';');
        }
        return text.ToString();
    }

    private static void LinkTest()
    {
        using (var client = Sa())
        {
            Fails(LinkedServerStatus.NotFound, -1, () => client.TryTest("NoSuchServer"), "test of a missing server throws");
            client.Create("UNREACHABLE", new LinkedServerSpec { Product = "", Provider = "MSOLEDBSQL", DataSource = "tcp:127.0.0.1,1" });
            var result = client.TryTest("UNREACHABLE");
            Equal("UNREACHABLE", result.Name, "result name");
            Check(!result.Success, "unreachable link fails the test");
            Check(result.Number != 0 && result.Exception != null && result.Message.Length > 0, "failure carries SQL number and message");
            Throws<LinkedServerException>(() => client.Test("UNREACHABLE"), "Test throws where TryTest reports");
            client.Drop("UNREACHABLE", true);
            if (Peer != null)
            {
                client.Create(Peer, new LinkedServerSpec { Product = "SQL Server" });
                var reached = client.TryTest(Peer);
                Check(reached.Success, "peer stand-in reachable: " + reached.Message);
                client.Test(Peer);
                client.Drop(Peer, true);
            }
        }
    }

    private static void Threads()
    {
        using (var client = Sa())
        {
            client.Create("THREADS", new LinkedServerSpec { Product = "SQL Server" });
            int successes = 0;
            var failures = new List<string>();
            var threads = new List<Thread>();
            for (int t = 0; t < 8; t++)
            {
                int id = t;
                var thread = new Thread(() =>
                {
                    for (int i = 0; i < 10; i++)
                    {
                        try
                        {
                            if (client.Get("THREADS").Name != "THREADS") throw new InvalidOperationException("wrong server");
                            client.SetOption("THREADS", "query timeout", (id * 10 + i).ToString());
                            if (Find(client.List(), "THREADS") == null) throw new InvalidOperationException("not listed");
                            Fails(LinkedServerStatus.NotFound, 15015, () => client.Drop("Missing" + id, false), "concurrent error");
                            Interlocked.Increment(ref successes);
                        }
                        catch (Exception e)
                        {
                            lock (failures) failures.Add(e.Message);
                        }
                    }
                });
                threads.Add(thread);
                thread.Start();
            }
            foreach (var thread in threads) thread.Join();
            Equal(80, successes, "every concurrent round succeeded" + (failures.Count > 0 ? ": " + failures[0] : ""));
            client.Drop("THREADS", true);
        }
    }

    private static void ConnectionInfo()
    {
        using (var client = Sa())
        {
            var info = client.GetConnectionInfo();
            Equal("full", info.Encryption, "Encrypt=true gives full encryption");
            Equal(true, info.Encrypted, "encrypted");
            Equal(true, info.CertificateValidated, "the ServerCertificate validated the server");
            Equal("7.4", info.TdsVersion, "TDS version");
            Equal("MGMT", info.ServerName, "server name");
            Check(info.ServerVersion.StartsWith("16."), "server version " + info.ServerVersion);
        }
    }

    private static LinkedServerClient StallingClient()
    {
        // A command timeout long enough that only a cancel ends the stalled call in the test.
        return new LinkedServerClient("Server=" + StallServer + ";Encrypt=true;ServerCertificate=" + StallCertificate +
            ";User ID=sa;Password=" + SaPassword + ";Command Timeout=120");
    }

    // RPC calls the stall stand-in has received on all its connections: sp_standin_stats'
    // rpc_calls summed, read by FreeTDS tsql (a client independent of the binding) with a SQL
    // batch, which adds no RPC call of its own.
    private static long StallRpcCalls()
    {
        var info = new ProcessStartInfo("tsql", "-S stall -U sa -P \"" + SaPassword + "\" -o q");
        info.UseShellExecute = false;
        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.EnvironmentVariables["FREETDSCONF"] = StallFreeTds;
        using (var process = Process.Start(info))
        {
            process.StandardInput.Write("EXEC sp_standin_stats\ngo\nexit\n");
            process.StandardInput.Close();
            var errors = new StringBuilder();
            process.ErrorDataReceived += (sender, e) => { lock (errors) errors.Append(e.Data).Append('\n'); };
            process.BeginErrorReadLine();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            string[] lines = output.Replace("\r", "").Split('\n');
            for (int i = 0; i < lines.Length; i++)
            {
                int column = Array.IndexOf(lines[i].Split('\t'), "rpc_calls");
                if (column < 0) continue;
                long calls = 0;
                for (int j = i + 1; j < lines.Length; j++)
                {
                    string[] fields = lines[j].Split('\t');
                    long value;
                    if (fields.Length > column && long.TryParse(fields[column], out value)) calls += value;
                }
                return calls;
            }
            lock (errors)
                throw new InvalidOperationException("tsql printed no sp_standin_stats rows (exit " + process.ExitCode +
                    "): " + output + errors);
        }
    }

    // Waits until the stall stand-in has received more than `before` RPC calls: the call under
    // test has then reached the server, which holds it (past the binding's own checks, inside the
    // native call). At most 10 s, so a call that never arrives fails instead of hanging.
    private static void WaitForStalledCall(long before)
    {
        var waited = Stopwatch.StartNew();
        while (StallRpcCalls() <= before)
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(10))
                throw new TimeoutException("the stall stand-in did not receive the call under test within 10 s");
            Thread.Sleep(20);
        }
    }

    // Runs client.Drop (stalled by the server) on a thread and returns what it threw. With the
    // stand-in's counters (LSV_TEST_STALL_FREETDS): waits until the server holds the call, then
    // calls `cancel` once. Without them (tests/windows under Wine): calls `cancel` every 50 ms
    // until the call returns, which cannot tell a cancel inside the native call from one before it.
    private static Exception StalledDrop(LinkedServerClient client, Action cancel)
    {
        long before = StallFreeTds != null ? StallRpcCalls() : 0;
        Exception thrown = null;
        var call = new Thread(() =>
        {
            try { client.Drop("NOWHERE", true); }
            catch (Exception e) { thrown = e; }
        });
        call.Start();
        if (StallFreeTds != null)
        {
            WaitForStalledCall(before);
            cancel();
            call.Join();
        }
        else
        {
            while (!call.Join(50)) cancel();
        }
        return thrown;
    }

    private static void CancelStalledCall()
    {
        using (var client = StallingClient())
        {
            client.Cancel(); // no call: nothing happens
            var thrown = StalledDrop(client, client.Cancel) as LinkedServerException;
            Check(thrown != null, "the stalled call threw a LinkedServerException");
            if (thrown == null) return;
            Equal(LinkedServerStatus.Cancelled, thrown.Status, "status Cancelled: " + thrown.Message);
            // The drop was sent and abandoned: the server may have run it.
            if (StallFreeTds != null) Check(thrown.OutcomeUncertain, "a cancelled call that was sent is OutcomeUncertain");
            Check(!thrown.UndoFailed, "nothing to undo");
            Equal(0, client.List().Count, "the client is usable after the cancel");
        }
    }

    private static void TokenCancelsStalledCall()
    {
        using (var client = StallingClient())
        using (var source = new CancellationTokenSource())
        {
            client.CancellationToken = source.Token;
            var thrown = StalledDrop(client, source.Cancel) as OperationCanceledException;
            Check(thrown != null, "the stalled call threw an OperationCanceledException");
            if (thrown == null) return;
            Equal(source.Token, thrown.CancellationToken, "the exception carries the token");
            if (StallFreeTds != null)
            {
                // The token cancelled the native call (lsv_cancel): its error is the inner exception.
                var inner = thrown.InnerException as LinkedServerException;
                Check(inner != null, "the inner exception is a LinkedServerException: " + thrown.InnerException);
                if (inner != null) Equal(LinkedServerStatus.Cancelled, inner.Status, "inner status Cancelled");
            }
            client.CancellationToken = CancellationToken.None;
            Equal(0, client.List().Count, "the client is usable after the cancel");
        }
    }

    private static void DisposeClient()
    {
        var client = Sa();
        client.Dispose();
        Check(client.IsClosed, "closed after Dispose");
        Throws<ObjectDisposedException>(() => client.List(), "call after Dispose");
        client.Dispose();
        Check(client.IsClosed, "a second Dispose is harmless");
        // A client that is only dropped is released by its SafeHandle's finalizer.
        for (int i = 0; i < 5; i++) Sa();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using (var again = Sa()) Check(again.List() != null, "library still fine after finalized clients");
    }

    // Each call holds a reference on the handle, so a Dispose racing with calls must either let a
    // call finish or make it throw ObjectDisposedException; never free the client under it.
    private static void DisposeDuringCalls()
    {
        var client = Sa();
        var started = new CountdownEvent(8);
        int successes = 0;
        int disposed = 0;
        var unexpected = new List<string>();
        var threads = new List<Thread>();
        for (int t = 0; t < 8; t++)
        {
            var thread = new Thread(() =>
            {
                bool first = true;
                // Bounded, in case Dispose never takes effect.
                for (int i = 0; i < 2000; i++)
                {
                    try
                    {
                        client.List();
                        Interlocked.Increment(ref successes);
                    }
                    catch (ObjectDisposedException)
                    {
                        Interlocked.Increment(ref disposed);
                        break;
                    }
                    catch (Exception e)
                    {
                        lock (unexpected) unexpected.Add(e.GetType().Name + ": " + e.Message);
                        break;
                    }
                    finally
                    {
                        if (first) started.Signal();
                        first = false;
                    }
                }
            });
            threads.Add(thread);
            thread.Start();
        }
        started.Wait();
        client.Dispose();
        foreach (var thread in threads) thread.Join();
        Equal(0, unexpected.Count, "calls racing Dispose only succeed or see ObjectDisposedException" +
            (unexpected.Count > 0 ? ": " + unexpected[0] : ""));
        Equal(8, disposed, "every thread saw ObjectDisposedException after Dispose");
        Check(successes >= 8, "each thread had a call succeed before Dispose: " + successes);
        Check(client.IsClosed, "closed after Dispose");
        using (var again = Sa()) Check(again.List() != null, "library still fine after the race");
    }
}
