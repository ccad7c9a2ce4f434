#nullable enable
using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Text;
using LinkedServer.Interop;
using Xunit;
using static LinkedSrv.BindingTests.Expect;

namespace LinkedSrv.BindingTests;

/// <summary>Every method of LinkedServerClient against the stand-ins, and every exception path
/// with its Status and SQL Number.</summary>
[Collection("stand-ins")]
public class ClientTests
{
    private readonly Servers servers;

    public ClientTests(Servers servers) => this.servers = servers;

    private static LinkedServerInfo? Find(IEnumerable<LinkedServerInfo> servers, string name)
        => servers.FirstOrDefault(s => s.Name == name);

    [Fact]
    public void ConnectFailuresCarryStatusAndNumber()
    {
        var error = Fails(LinkedServerStatus.Authentication, 18456,
            () => new LinkedServerClient(servers.Base + ";User ID=sa;Password=wrong").Dispose());
        Assert.NotEmpty(error.ServerMessages);
        Assert.Equal(18456, error.ServerMessages[0].Number);
        Assert.Equal(14, error.Severity);
        Assert.DoesNotContain("wrong", error.Message);
        Fails(LinkedServerStatus.InvalidArgument, 0,
            () => new LinkedServerClient("Server=" + servers.Server + ";Colour=blue;User ID=sa;Password=x").Dispose());
        Fails(LinkedServerStatus.Tls, -1,
            () => new LinkedServerClient("Server=" + servers.Server + ";Encrypt=true;User ID=sa;Password=" + Servers.SaPassword).Dispose());
        Fails(LinkedServerStatus.Connection, 0,
            () => new LinkedServerClient("Server=tcp:127.0.0.1,1;Encrypt=true;User ID=sa;Password=x;Connect Timeout=5").Dispose());
        // SSPI exists on Windows only.
        Fails(LinkedServerStatus.Unsupported, 0,
            () => LinkedServerClient.Connect(servers.Server, null, null, LinkedServerEncrypt.Mandatory, true, null).Dispose());
        Assert.Throws<ArgumentNullException>(() => new LinkedServerClient(null));
    }

    [Fact]
    public void SecureStringPasswords()
    {
        using (var client = new LinkedServerClient(servers.Base, Servers.QuoteLogin, Servers.Secure(Servers.QuotePassword), null))
            Assert.NotNull(client.List());
        Fails(LinkedServerStatus.Authentication, 18456,
            () => new LinkedServerClient(servers.Base, Servers.QuoteLogin, Servers.Secure(Servers.QuotePassword + "x"), null).Dispose());
        using (var client = new LinkedServerClient(servers.Base + ";", "sa", Servers.Secure(Servers.SaPassword), null))
            Assert.False(client.IsClosed);
        Fails(LinkedServerStatus.Tls, -1,
            () => LinkedServerClient.Connect(servers.Server, "sa", Servers.Secure(Servers.SaPassword), LinkedServerEncrypt.Mandatory, false, null).Dispose());
        using (var client = LinkedServerClient.Connect(servers.Server, Servers.QuoteLogin, Servers.Secure(Servers.QuotePassword),
                   LinkedServerEncrypt.Mandatory, true, null))
        {
            Assert.Equal(servers.Server, client.SqlInstance);
            Assert.Equal(servers.Server, client.ToString());
            Assert.NotNull(client.List());
            Assert.EndsWith("liblinkedsrv.so", client.Library.Path);
        }
    }

    [Fact]
    public void CreateGetListOptionsDrop()
    {
        using var client = servers.Sa();
        client.Create("LIFE1", new LinkedServerSpec { Product = "SQL Server" });
        var life = client.Get("LIFE1");
        Assert.Equal("LIFE1", life.Name);
        Assert.Equal("SQL Server", life.Product);
        Assert.True(life.ServerId > 0);
        Assert.True(life.ModifyDate.HasValue);
        Assert.Same(client, life.Connection);
        var login = Assert.Single(life.Logins);
        Assert.True(login.LocalLogin == null && login.UsesSelfCredential);
        Assert.Equal("LIFE1", login.LinkedServer);
        Assert.Equal("* -> (self)", login.ToString());

        var spec = new LinkedServerSpec { Product = "", Provider = "MSOLEDBSQL", DataSource = "host\\inst,1433", Catalog = "master" };
        spec.Options["rpc out"] = true;
        spec.Options["query timeout"] = 30;
        client.Create("LIFE2", spec);
        var life2 = client.Get("LIFE2");
        Assert.Equal("MSOLEDBSQL", life2.Provider);
        Assert.Equal("host\\inst,1433", life2.DataSource);
        Assert.Equal("master", life2.Catalog);
        Assert.True(life2.RpcOut);
        Assert.Equal(30, life2.QueryTimeout);

        client.SetRpc("LIFE1", false, false);
        Assert.Equal((false, false), (client.Get("LIFE1").Rpc, client.Get("LIFE1").RpcOut));
        client.SetRpc("LIFE1", true, null);
        Assert.Equal((true, false), (client.Get("LIFE1").Rpc, client.Get("LIFE1").RpcOut));
        client.SetRpc("LIFE1", null, true);
        Assert.Equal((true, true), (client.Get("LIFE1").Rpc, client.Get("LIFE1").RpcOut));
        client.SetRpc("LIFE1", false, null);
        Assert.Equal((false, true), (client.Get("LIFE1").Rpc, client.Get("LIFE1").RpcOut));

        client.SetOption("LIFE1", "data access", "false");
        Assert.False(client.Get("LIFE1").DataAccess);
        client.SetOption("LIFE1", "connect timeout", "17");
        Assert.Equal(17, client.Get("LIFE1").ConnectTimeout);
        client.SetOption("LIFE1", "lazy schema validation", LinkedServerOptions.FormatValue(true));
        Assert.True(client.Get("LIFE1").LazySchemaValidation);

        var names = client.List().Select(s => s.Name).ToList();
        Assert.Contains("LIFE1", names);
        Assert.Contains("LIFE2", names);
        Assert.DoesNotContain("MGMT", names);
        Assert.Equal(names.OrderBy(n => n, StringComparer.OrdinalIgnoreCase), names);

        client.Drop("LIFE1", false);
        client.Drop("LIFE2", false);
        Fails(LinkedServerStatus.NotFound, -1, () => client.Get("LIFE1"));
    }

    [Theory]
    [InlineData("Zürich")]
    [InlineData("東京")]
    [InlineData("a'b]c;--d")]
    [InlineData("[x]] ; DROP LOGIN sa; --")]
    [InlineData("😀 emoji")]
    public void AwkwardNamesAreStoredLiterally(string name)
    {
        using (var client = servers.Sa())
        {
            client.Create(name, new LinkedServerSpec { Product = "", Provider = "MSOLEDBSQL", DataSource = name + "\\inst" });
            var info = client.Get(name);
            Assert.Equal(name, info.Name);
            Assert.Equal(name + "\\inst", info.DataSource);
            client.SetRpc(name, true, true);
            Assert.True(client.Get(name).RpcOut);
            Assert.NotNull(Find(client.List(), name));
            client.Drop(name, true);
            Assert.Null(Find(client.List(), name));
        }
        using (var again = servers.Sa())
            Assert.NotNull(again.List());
    }

    [Fact]
    public void DropOfAMissingServerIs15015()
    {
        using var client = servers.Sa();
        var error = Fails(LinkedServerStatus.NotFound, 15015, () => client.Drop("NoSuchServer", false));
        Assert.False(error.OutcomeUncertain);
        Assert.False(error.UndoFailed);
        Assert.Equal("ObjectNotFound", error.ErrorCategory);
        Assert.Equal("LinkedServer.NotFound.15015", error.ErrorId);
        Assert.Equal(16, error.Severity);
        Assert.Equal(1, error.State);
        Assert.Equal("sys.sp_dropserver", error.Procedure);
        Assert.Contains("NoSuchServer", error.Message);
        var message = Assert.Single(error.ServerMessages);
        Assert.Equal(15015, message.Number);
        Assert.Equal(16, message.Severity);
        Assert.Contains("NoSuchServer", message.Message);
        Assert.Equal("MGMT", message.Server);
    }

    [Fact]
    public void ServerErrorsWithTheirStatus()
    {
        using (var client = servers.Sa())
        {
            client.Create("ERR1", new LinkedServerSpec { Product = "SQL Server" });
            Fails(LinkedServerStatus.AlreadyExists, 15028, () => client.Create("ERR1", new LinkedServerSpec { Product = "SQL Server" }));
            client.MapLogin("ERR1", "sa", false, "remote", Servers.Secure("x"));
            var busy = Fails(LinkedServerStatus.HasLogins, 15190, () => client.Drop("ERR1", false));
            Assert.Equal("ResourceBusy", busy.ErrorCategory);
            Assert.NotNull(client.Get("ERR1"));
            Fails(LinkedServerStatus.InvalidArgument, 0, () => client.SetOption("ERR1", "rpcout", "true"));
            Fails(LinkedServerStatus.InvalidArgument, 0, () => client.SetOption("ERR1", "query timeout", "-1"));
            Fails(LinkedServerStatus.InvalidArgument, 0, () => client.Drop(null, false));
            Fails(LinkedServerStatus.InvalidArgument, 0, () => client.Create("", new LinkedServerSpec { Product = "SQL Server" }));
            Fails(LinkedServerStatus.InvalidArgument, 0, () => client.Create(new string('n', 129), new LinkedServerSpec { Product = "SQL Server" }));
            var unknownField = new LinkedServerSpec { Product = "SQL Server" };
            unknownField.Options["no such option"] = true;
            Fails(LinkedServerStatus.InvalidArgument, 0, () => client.Create("ERR2", unknownField));
            Fails(LinkedServerStatus.NotFound, -1, () => client.Get("ERR2"));
            Assert.Throws<ArgumentNullException>(() => client.Create("ERR3", null));
            Assert.Throws<ArgumentException>(() => client.Drop("a\0b", false));
            client.Drop("ERR1", true);
        }
        using (var reader = new LinkedServerClient(servers.Base, Servers.ReaderLogin, Servers.Secure(Servers.ReaderPassword), null))
        {
            var denied = Fails(LinkedServerStatus.PermissionDenied, 15247,
                () => reader.Create("DENIED", new LinkedServerSpec { Product = "SQL Server" }));
            Assert.Equal("PermissionDenied", denied.ErrorCategory);
        }
    }

    [Fact]
    public void LoginMappingsWithASecureStringRemotePassword()
    {
        const string password = "p'a;ss\"w{}rd--";
        using var client = servers.Sa();
        client.Create("MAP1", new LinkedServerSpec { Product = "SQL Server" });
        client.MapLogin("MAP1", "sa", false, "remote'user;x", Servers.Secure(password));
        var info = client.Get("MAP1");
        var mapped = Assert.Single(info.Logins, l => l.LocalLogin == "sa");
        Assert.Equal("remote'user;x", mapped.RemoteUser);
        Assert.False(mapped.UsesSelfCredential);
        Assert.Equal("sa -> remote'user;x", mapped.ToString());
        Assert.DoesNotContain("p'a;ss", Dump(info));

        client.MapLogin("MAP1", null, true, null, null);
        client.MapLogin("MAP1", "sa", true, null, null);
        var sa = Assert.Single(client.Get("MAP1").Logins, l => l.LocalLogin == "sa");
        Assert.True(sa.UsesSelfCredential && sa.RemoteUser == null);

        client.UnmapLogin("MAP1", "sa");
        client.UnmapLogin("MAP1", null);
        Assert.Empty(client.Get("MAP1").Logins);
        client.MapLogin("MAP1", null, false, null, null);
        var none = Assert.Single(client.Get("MAP1").Logins);
        Assert.True(!none.UsesSelfCredential && none.RemoteUser == null);
        Assert.Equal("* -> (no security context)", none.ToString());
        Fails(LinkedServerStatus.NotFound, 15015, () => client.MapLogin("NoSuchServer", null, true, null, null));
        Fails(LinkedServerStatus.NotFound, 15015, () => client.UnmapLogin("NoSuchServer", null));
        client.Drop("MAP1", true);
    }

    [Fact]
    public void EmptyStringFromPowerShellMeansNull()
    {
        using (var client = new LinkedServerClient(servers.SaConnectionString, "", null, null))
            Assert.NotNull(client.List());
        using var sa = servers.Sa();
        sa.Create("EMPTY1", new LinkedServerSpec { Product = "SQL Server" });
        sa.UnmapLogin("EMPTY1", "");
        Assert.Empty(sa.Get("EMPTY1").Logins);
        sa.MapLogin("EMPTY1", "", false, "", null);
        var login = Assert.Single(sa.Get("EMPTY1").Logins);
        Assert.True(login.LocalLogin == null && !login.UsesSelfCredential && login.RemoteUser == null);
        sa.MapLogin("EMPTY1", "", true, "", null);
        login = Assert.Single(sa.Get("EMPTY1").Logins);
        Assert.True(login.LocalLogin == null && login.UsesSelfCredential);
        sa.SetOption("EMPTY1", "collation name", "Latin1_General_CI_AS");
        Assert.Equal("Latin1_General_CI_AS", sa.Get("EMPTY1").CollationName);
        sa.SetOption("EMPTY1", "collation name", "");
        Assert.Null(sa.Get("EMPTY1").CollationName);
        sa.Drop("EMPTY1", true);
    }

    [Fact]
    public void TestAndTryTestThroughTheLink()
    {
        using var client = servers.Sa();
        Fails(LinkedServerStatus.NotFound, 7202, () => client.TryTest("NoSuchServer"));
        client.Create("UNREACHABLE", new LinkedServerSpec { Product = "", Provider = "MSOLEDBSQL", DataSource = "tcp:127.0.0.1,1" });
        var result = client.TryTest("UNREACHABLE");
        Assert.Equal("UNREACHABLE", result.Name);
        Assert.False(result.Success);
        Assert.Equal(7303, result.Number);
        Assert.Equal(LinkedServerStatus.Sql, result.Exception.Status);
        Assert.NotEmpty(result.Message);
        var thrown = Fails(LinkedServerStatus.Sql, 7303, () => client.Test("UNREACHABLE"));
        // The provider's INFO 7412 comes first; tiberius gives no number for later messages
        // (README, Known limits), so it is matched by its text.
        Assert.Equal(new[] { 0, 7303 }, thrown.ServerMessages.Select(m => m.Number));
        Assert.Contains("returned message", thrown.ServerMessages[0].Message);
        client.Drop("UNREACHABLE", true);

        client.Create("PEER", new LinkedServerSpec { Product = "SQL Server" });
        var reached = client.TryTest("PEER");
        Assert.True(reached.Success, reached.Message);
        client.Test("PEER");
        // The remote login fails on the peer: its own 18456.
        client.MapLogin("PEER", null, false, "sa", Servers.Secure("not-the-password"));
        client.UnmapLogin("PEER", "sa");
        var refused = client.TryTest("PEER");
        Assert.False(refused.Success);
        Assert.Equal(18456, refused.Number);
        client.Drop("PEER", true);
    }

    [Fact]
    public void CommandTimeoutIsTheTimeoutStatus()
    {
        using var client = servers.StallingClient(seconds: 1);
        Fails(LinkedServerStatus.Timeout, 0, () => client.Drop("NOWHERE", true));
        // The next call reconnects by itself.
        Assert.Empty(client.List());
    }

    /// <summary>Status 12 through the binding's error path: the library refuses a freed and a
    /// foreign client pointer (the SafeHandle never lets LinkedServerClient pass one).</summary>
    [Fact]
    public void FreedOrForeignHandleIsInvalidHandle()
    {
        var library = LinkedServerLibrary.Load(null);
        IntPtr client, error;
        int status;
        using (var text = UnmanagedUtf8.ConnectionString(servers.SaConnectionString, null, null))
            status = library.Connect(text.Pointer, out client, out error);
        Assert.Equal(0, status);
        library.ClientFree(client);
        foreach (var pointer in new[] { client, new IntPtr(0x1234) })
        {
            status = library.List(pointer, out IntPtr json, out error);
            Assert.Equal(IntPtr.Zero, json);
            var failure = library.TakeError(status, error, "lsv_list");
            Assert.Equal(LinkedServerStatus.InvalidHandle, failure.Status);
            Assert.Equal("InvalidOperation", failure.ErrorCategory);
            Assert.Equal(0, failure.Number);
        }
    }

    private static string Dump(object value)
    {
        var text = new StringBuilder();
        foreach (PropertyInfo property in value.GetType().GetProperties())
        {
            if (property.Name == "Connection") continue;
            object? item = property.GetValue(value, null);
            if (item is System.Collections.IEnumerable list && item is not string)
                foreach (object element in list) text.Append(Dump(element));
            text.Append(property.Name).Append('=').Append(item).Append(';');
        }
        return text.ToString();
    }
}
