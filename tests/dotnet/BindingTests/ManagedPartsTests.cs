using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;
using LinkedServer.Interop;
using Xunit;

namespace LinkedSrv.BindingTests;

/// <summary>The binding's managed parts: JSON, parameters, connection strings, password buffers,
/// exception mapping, argument checks (what tests/csharp/Tests.cs checks under Mono).</summary>
public class ManagedPartsTests
{
    [Fact]
    public void JsonWriterEscapesAndKeepsNonAscii()
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
        Assert.Equal("{\"product\":\"\",\"provider\":\"MSOLEDBSQL\",\"data_source\":\"host\\\\inst \\\"q\\\"\\n\\t\\u0001Zürich 東京 😀\"," +
            "\"options\":{\"rpc out\":true,\"query timeout\":30,\"collation name\":null}}", spec.ToJson());
        Assert.Equal("{\"product\":\"SQL Server\"}", new LinkedServerSpec { Product = "SQL Server" }.ToJson());
        var secret = new LinkedServerSpec { Product = "", Provider = "MSOLEDBSQL", ProviderString = "UID=u;PWD=secret" };
        secret.Options["provider string"] = "PWD=secret2";
        Assert.Contains("PWD=secret", secret.ToJson());
        Assert.DoesNotContain("secret", secret.ToString());
        Assert.Contains("\"provider_string\":\"(not shown)\"", secret.ToString());
        var bad = new LinkedServerSpec { Product = "SQL Server" };
        bad.Options["rpc"] = 1.5;
        Assert.Throws<ArgumentException>(() => bad.ToJson());
        var back = (Dictionary<string, object>)Json.Parse(spec.ToJson());
        Assert.Equal(spec.DataSource, (string)back["data_source"]);
    }

    [Fact]
    public void JsonReader()
    {
        var value = (Dictionary<string, object>)Json.Parse(
            " {\"a\": [1, -2, 3.5e1, true, false, null], \"s\": \"\\u00e9\\ud83d\\ude00\\/\\\\\\\"x\", \"o\": {}} ");
        var list = (List<object>)value["a"];
        Assert.Equal(new object[] { 1L, -2L, 35.0, true, false, null }, list);
        Assert.Equal("é😀/\\\"x", (string)value["s"]);
        Assert.Empty((Dictionary<string, object>)value["o"]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("[1,]")]
    [InlineData("{\"a\" 1}")]
    [InlineData("\"open")]
    [InlineData("tru")]
    [InlineData("{} x")]
    [InlineData("\"\\q\"")]
    public void MalformedJsonIsAFormatException(string input)
    {
        Assert.Throws<FormatException>(() => Json.Parse(input));
    }

    [Fact]
    public void SpecAndOptionsFromPowerShellParameters()
    {
        var bound = new Dictionary<string, object>
        {
            { "Name", "S1" }, { "Product", "" }, { "Provider", "MSOLEDBSQL" }, { "DataSource", "h,1433" },
            { "ProviderString", "Encrypt=yes" }, { "RpcOut", true }, { "QueryTimeout", 30 }, { "CollationName", "" },
            { "Connection", null }, { "Verbose", true }
        };
        var spec = LinkedServerSpec.FromParameters(bound);
        Assert.Equal("", spec.Product);
        Assert.Equal("MSOLEDBSQL", spec.Provider);
        Assert.Equal("h,1433", spec.DataSource);
        Assert.Equal("Encrypt=yes", spec.ProviderString);
        Assert.Null(spec.Location);
        Assert.Null(spec.Catalog);
        Assert.Equal(3, spec.Options.Count);
        Assert.True((bool)spec.Options["rpc out"]);
        Assert.Equal(30, (int)spec.Options["query timeout"]);
        Assert.Null(spec.Options["collation name"]);
        Assert.False(spec.Options.ContainsKey("provider string"));

        var names = LinkedServerOptions.FromParameters(bound).Select(change => change.Key);
        Assert.Equal(new[] { "rpc out", "collation name", "query timeout", "provider string" }, names);
        Assert.Equal("true", LinkedServerOptions.FormatValue(true));
        Assert.Equal("false", LinkedServerOptions.FormatValue(false));
        Assert.Equal("30", LinkedServerOptions.FormatValue(30));
        Assert.Null(LinkedServerOptions.FormatValue(null));
        Assert.Throws<ArgumentException>(() => LinkedServerOptions.FormatValue(1.5));
        Assert.Equal("'true'", LinkedServerOptions.DisplayValue("rpc out", "true"));
        Assert.Equal("NULL", LinkedServerOptions.DisplayValue("collation name", null));
        Assert.Equal("(not shown)", LinkedServerOptions.DisplayValue("Provider String", "PWD=x"));
        Assert.Equal(15, LinkedServerOptions.ParameterNames.Length);
    }

    [Fact]
    public void ConnectionStringBuildingAndQuoting()
    {
        Assert.Equal("Server=SQL01\\BTS;Encrypt=mandatory;TrustServerCertificate=false;Integrated Security=true",
            LinkedServerClient.BuildConnectionString("SQL01\\BTS", LinkedServerEncrypt.Mandatory, false, true));
        Assert.Equal("Server=tcp:h,1433;Encrypt=strict;TrustServerCertificate=true",
            LinkedServerClient.BuildConnectionString("tcp:h,1433", LinkedServerEncrypt.Strict, true, false));
        Assert.Equal("\"a;b\"\"c\"", LinkedServerClient.QuoteValue("a;b\"c"));
        Assert.Equal("\" padded \"", LinkedServerClient.QuoteValue(" padded "));
        Assert.Equal("plain", LinkedServerClient.QuoteValue("plain"));
        Assert.Throws<ArgumentException>(() => LinkedServerClient.BuildConnectionString("", LinkedServerEncrypt.Mandatory, false, true));
    }

    [Fact]
    public void PasswordBufferEncoding()
    {
        using (var text = UnmanagedUtf8.ConnectionString("Server=x;", "us;er", Servers.Secure("a\"b;é😀")))
            Assert.Equal("Server=x;User ID=\"us;er\";Password=\"a\"\"b;é😀\"", Utf8.FromNative(text.Pointer));
        using (var text = UnmanagedUtf8.ConnectionString("Server=x", null, null))
            Assert.Equal("Server=x", Utf8.FromNative(text.Pointer));
        using (var secret = UnmanagedUtf8.Secret(Servers.Secure("p'a;ss\"東")))
        {
            var expected = Encoding.UTF8.GetBytes("p'a;ss\"東");
            var actual = new byte[expected.Length + 1];
            Marshal.Copy(secret.Pointer, actual, 0, actual.Length);
            Assert.Equal(expected.Concat(new byte[] { 0 }), actual);
        }
        Assert.Null(UnmanagedUtf8.Secret(null));
        var lone = new SecureString();
        lone.AppendChar('a');
        lone.AppendChar('\ud800');
        var error = Assert.Throws<ArgumentException>(() => UnmanagedUtf8.Secret(lone));
        Assert.DoesNotContain("a\ud800", error.Message);
        Assert.Throws<ArgumentException>(() => UnmanagedUtf8.Secret(Servers.Secure("a\0b")));
    }

    [Theory]
    [InlineData(LinkedServerStatus.InvalidArgument, "InvalidArgument")]
    [InlineData(LinkedServerStatus.NotFound, "ObjectNotFound")]
    [InlineData(LinkedServerStatus.AlreadyExists, "ResourceExists")]
    [InlineData(LinkedServerStatus.HasLogins, "ResourceBusy")]
    [InlineData(LinkedServerStatus.PermissionDenied, "PermissionDenied")]
    [InlineData(LinkedServerStatus.Sql, "NotSpecified")]
    [InlineData(LinkedServerStatus.Connection, "ConnectionError")]
    [InlineData(LinkedServerStatus.Tls, "SecurityError")]
    [InlineData(LinkedServerStatus.Authentication, "AuthenticationError")]
    [InlineData(LinkedServerStatus.Timeout, "OperationTimeout")]
    [InlineData(LinkedServerStatus.Internal, "NotSpecified")]
    [InlineData(LinkedServerStatus.InvalidHandle, "InvalidOperation")]
    [InlineData(LinkedServerStatus.Unsupported, "NotImplemented")]
    [InlineData(LinkedServerStatus.Cancelled, "OperationStopped")]
    public void ExceptionCategoriesAndIds(LinkedServerStatus status, string category)
    {
        var error = new LinkedServerException(status, "m", 0, 0, 0, null, 0, null);
        Assert.Equal(category, error.ErrorCategory);
        Assert.Equal("LinkedServer." + status, error.ErrorId);
    }

    [Fact]
    public void StatusNumbersAreTheAbiContract()
    {
        var expected = new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };
        var actual = new[]
        {
            LinkedServerStatus.InvalidArgument, LinkedServerStatus.NotFound, LinkedServerStatus.AlreadyExists,
            LinkedServerStatus.HasLogins, LinkedServerStatus.PermissionDenied, LinkedServerStatus.Sql,
            LinkedServerStatus.Connection, LinkedServerStatus.Tls, LinkedServerStatus.Authentication,
            LinkedServerStatus.Timeout, LinkedServerStatus.Internal, LinkedServerStatus.InvalidHandle,
            LinkedServerStatus.Unsupported, LinkedServerStatus.Cancelled,
        }.Select(s => (int)s);
        Assert.Equal(expected, actual);
        Assert.Equal("LinkedServer.NotFound.15015",
            new LinkedServerException(LinkedServerStatus.NotFound, "m", 15015, 16, 1, "sp_dropserver", 0, null).ErrorId);
    }

    [Fact]
    public void ArgumentChecksBeforeTheCall()
    {
        var error = Assert.Throws<ArgumentException>(() => Utf8.Encode("a\0b", "name"));
        Assert.Equal("name", error.ParamName);
        Assert.Throws<ArgumentException>(() => Utf8.Encode("a\udc00", "name"));
        Assert.Null(Utf8.Encode(null, "name"));
        Assert.Equal("5a-c3-bc-00", BitConverter.ToString(Utf8.Encode("Zü", "name")).ToLowerInvariant());
    }
}
