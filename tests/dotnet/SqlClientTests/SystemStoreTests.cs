using System;
using System.IO;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Data.SqlClient;
using Xunit;

using LinkedSrv.DotnetTests;

namespace LinkedSrv.SqlClientTests;

/// <summary>
/// The stand-in's certificate trusted the way a Linux host trusts a server certificate for .NET:
/// in the CurrentUser\Root store (~/.dotnet/corefx/cryptography/x509stores/root; run.sh points
/// HOME at a folder under target/ for the test run). SqlClient then validates the chain and the
/// host name, or HostNameInCertificate when given. (With ServerCertificate pinned, SqlClient 7.1
/// compares the certificate only and ignores HostNameInCertificate.)
/// </summary>
public class SystemStoreTests
{
    /// <summary>A stand-in whose certificate sits in CurrentUser\Root until Dispose.</summary>
    private sealed class TrustedStandIn : IDisposable
    {
        public StandIn Server { get; }
        private readonly X509Certificate2 certificate;

        public TrustedStandIn(string name, string encrypt)
        {
            Server = new StandIn(name, encrypt);
            certificate = X509Certificate2.CreateFromPem(File.ReadAllText(Server.CertPath));
            using var store = new X509Store(StoreName.Root, StoreLocation.CurrentUser);
            store.Open(OpenFlags.ReadWrite);
            store.Add(certificate);
        }

        public string Login(string host, string extra)
        {
            using var c = new SqlConnection(
                $"Data Source=tcp:{host},{Server.Port};User ID=sa;Password={StandIn.SaPassword};Pooling=false;{extra}");
            c.Open();
            using var cmd = new SqlCommand("SELECT @@SERVERNAME", c);
            return (string)cmd.ExecuteScalar();
        }

        public void Dispose()
        {
            using (var store = new X509Store(StoreName.Root, StoreLocation.CurrentUser))
            {
                store.Open(OpenFlags.ReadWrite);
                store.Remove(certificate);
            }
            certificate.Dispose();
            Server.Dispose();
        }
    }

    [Theory]
    [InlineData("on", "Encrypt=Mandatory;")]
    [InlineData("strict", "Encrypt=Strict;")]
    public void TrustedThroughTheStore(string mode, string encrypt)
    {
        using var trusted = new TrustedStandIn("STORE01", mode);
        Assert.Equal("STORE01", trusted.Login("localhost", encrypt));
    }

    [Fact]
    public void HostNameInCertificateIsChecked()
    {
        using var trusted = new TrustedStandIn("STORE02", "on");
        Assert.Equal("STORE02", trusted.Login("127.0.0.1", "Encrypt=Mandatory;HostNameInCertificate=STORE02;"));
        var e = Assert.Throws<SqlException>(() => trusted.Login("127.0.0.1", "Encrypt=Mandatory;HostNameInCertificate=WRONGNAME;"));
        var tls = Assert.IsType<AuthenticationException>(e.InnerException);
        Assert.Contains("name mismatch", tls.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void WithoutTheStoreEntryTheSameLoginIsRefused()
    {
        using var server = new StandIn("STORE03", "on");
        using var c = new SqlConnection(
            $"Data Source=tcp:localhost,{server.Port};User ID=sa;Password={StandIn.SaPassword};Pooling=false;Encrypt=Mandatory;");
        var e = Assert.Throws<SqlException>(() => c.Open());
        Assert.IsType<AuthenticationException>(e.InnerException);
    }
}
