using System;
using System.Linq;
using Microsoft.Data.SqlClient;
using Xunit;

using LinkedSrv.DotnetTests;

namespace LinkedSrv.SqlClientTests;

public class LoginTests
{
    private static string ServerName(SqlConnection c)
    {
        using var cmd = new SqlCommand("SELECT @@SERVERNAME", c);
        return (string)cmd.ExecuteScalar();
    }

    /// <summary>SqlClient wraps the TLS failure: an AuthenticationException about the certificate.</summary>
    private static void AssertCertificateRejected(SqlException e)
    {
        Exception? inner = e;
        while (inner is not null and not System.Security.Authentication.AuthenticationException)
            inner = inner.InnerException;
        Assert.NotNull(inner);
        Assert.Contains("certificate", inner!.Message, StringComparison.OrdinalIgnoreCase);
    }

    private static string LoginAndAsk(StandIn s, string extra)
    {
        using var c = new SqlConnection(s.ConnectionString(extra: extra + "Pooling=false;"));
        c.Open();
        return ServerName(c);
    }

    [Theory]
    [InlineData("off")]
    [InlineData("login")]
    [InlineData("on")]
    public void EncryptOptionalLogsInWhateverTheServerOffers(string mode)
    {
        using var s = new StandIn("OPT01", mode);
        Assert.Equal("OPT01", LoginAndAsk(s, "Encrypt=Optional;" + s.TrustedByCertificate));
    }

    [Fact]
    public void EncryptMandatoryTrustsTheStandInCertificateByFile()
    {
        using var s = new StandIn("MAND01", "on");
        Assert.Equal("MAND01", LoginAndAsk(s, "Encrypt=Mandatory;" + s.TrustedByCertificate));
    }

    [Fact]
    public void EncryptMandatoryWithTrustServerCertificate()
    {
        using var s = new StandIn("MAND02", "on");
        Assert.Equal("MAND02", LoginAndAsk(s, "Encrypt=Mandatory;TrustServerCertificate=true;"));
    }

    [Fact]
    public void EncryptMandatoryRefusesAnUntrustedCertificate()
    {
        using var s = new StandIn("MAND03", "on");
        var e = Assert.Throws<SqlException>(() => LoginAndAsk(s, "Encrypt=Mandatory;TrustServerCertificate=false;"));
        AssertCertificateRejected(e);
    }

    [Fact]
    public void EncryptStrictIsTds80WithTheCertificateTrustedByFile()
    {
        using var s = new StandIn("STRICT01", "strict");
        Assert.Equal("STRICT01", LoginAndAsk(s, "Encrypt=Strict;" + s.TrustedByCertificate));
    }

    [Fact]
    public void EncryptStrictRefusesAnUntrustedCertificate()
    {
        using var s = new StandIn("STRICT02", "strict");
        var e = Assert.Throws<SqlException>(() => LoginAndAsk(s, "Encrypt=Strict;"));
        AssertCertificateRejected(e);
    }

    [Fact]
    public void WrongPasswordIs18456AndThePoolDoesNotMaskIt()
    {
        using var s = new StandIn("LOGIN01", "on");
        var good = s.ConnectionString(extra: "Encrypt=Mandatory;" + s.TrustedByCertificate + "Pooling=true;");
        var bad = s.ConnectionString(password: "wrong-password", extra: "Encrypt=Mandatory;" + s.TrustedByCertificate + "Pooling=true;");
        using (var c = new SqlConnection(good))
            c.Open(); // a pooled connection of sa exists from now on
        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var c = new SqlConnection(bad);
            var e = Assert.Throws<SqlException>(() => c.Open());
            Assert.Equal(18456, e.Number);
            Assert.Equal(14, e.Class);
            Assert.Equal(1, e.State);
            // SqlClient names the data source it connected to, not the token's server name.
            Assert.Equal($"tcp:localhost,{s.Port}", e.Server);
            Assert.Equal("Login failed for user 'sa'.", e.Message);
            var only = Assert.Single(e.Errors.Cast<SqlError>());
            Assert.Equal(18456, only.Number);
            Assert.Equal(1, only.LineNumber);
        }
        using (var c = new SqlConnection(good))
        {
            c.Open();
            Assert.Equal("LOGIN01", ServerName(c));
        }
        SqlConnection.ClearAllPools();
    }

    [Fact]
    public void UnknownLoginDatabaseIs4060Then18456()
    {
        using var s = new StandIn("LOGIN02", "on");
        using var c = new SqlConnection(s.ConnectionString(extra: "Encrypt=Mandatory;Pooling=false;Initial Catalog=NoSuchDb;" + s.TrustedByCertificate));
        var e = Assert.Throws<SqlException>(() => c.Open());
        Assert.Equal(4060, e.Number);
        Assert.Equal(new[] { 4060, 18456 }, e.Errors.Cast<SqlError>().Select(x => x.Number).ToArray());
        Assert.Equal(new byte[] { 11, 14 }, e.Errors.Cast<SqlError>().Select(x => x.Class).ToArray());
    }
}
