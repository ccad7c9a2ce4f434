using System;
using System.Diagnostics;
using System.IO;
using System.Security;
using System.Threading;
using LinkedServer.Interop;
using LinkedSrv.DotnetTests;
using Microsoft.Data.SqlClient;
using Xunit;

// The loader tests change process-wide state (DefaultBaseDirectory, LSV_NATIVE_LIBRARY).
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace LinkedSrv.BindingTests;

/// <summary>
/// The stand-ins every test class shares: MGMT (sa, the quoter login whose password needs
/// connection-string quoting, the reader login without permissions) linking to PEER, and STALL,
/// which never answers sp_dropserver. Also the loader fixtures: libraries built with gcc.
/// </summary>
public sealed class Servers : IDisposable
{
    public const string SaPassword = StandIn.SaPassword;
    public const string QuoteLogin = "quoter";
    public const string QuotePassword = "Pa\"ss;w'rd={x}";
    public const string ReaderLogin = "reader";
    public const string ReaderPassword = "Read3r!Pass";

    public StandIn Peer { get; }
    public StandIn Stall { get; }
    public StandIn Mgmt { get; }
    public string Fixtures { get; }

    public Servers()
    {
        Peer = new StandIn("PEER");
        Stall = new StandIn("STALL", "on", "--stall-at-procedure", "sp_dropserver");
        Mgmt = new StandIn("MGMT", "on", "--login", $"{QuoteLogin}:{QuotePassword}:sysadmin",
            "--login", $"{ReaderLogin}:{ReaderPassword}", "--peer", $"PEER={Peer.Host}:{Peer.Port}");
        Fixtures = Directory.CreateTempSubdirectory("lsv-binding-fixtures-").FullName;
        BuildFixtures();
    }

    /// <summary>tcp:127.0.0.1,PORT of MGMT, as a DBA would type it.</summary>
    public string Server => $"tcp:{Mgmt.Host},{Mgmt.Port}";

    public string Base => $"Server={Server};Encrypt=true;ServerCertificate={Mgmt.CertPath}";

    public string SaConnectionString => Base + ";User ID=sa;Password=" + SaPassword;

    public LinkedServerClient Sa() => new(SaConnectionString);

    /// <summary>A client of STALL whose command timeout only a cancel (or `seconds`) ends.</summary>
    public LinkedServerClient StallingClient(int seconds = 120) => new(
        $"Server=tcp:{Stall.Host},{Stall.Port};Encrypt=true;ServerCertificate={Stall.CertPath};" +
        $"User ID=sa;Password={SaPassword};Command Timeout={seconds}");

    /// <summary>RPC calls STALL has received so far, on all its connections: the sum of
    /// sp_standin_stats' rpc_calls, read through Microsoft.Data.SqlClient (a client independent of
    /// the binding) with a SQL batch, which adds no RPC call of its own.</summary>
    public long StallRpcCalls()
    {
        using var connection = new SqlConnection(Stall.ConnectionString(
            extra: "Encrypt=Mandatory;" + Stall.TrustedByCertificate + "Pooling=false;"));
        connection.Open();
        using var command = new SqlCommand("EXEC sp_standin_stats", connection);
        using var reader = command.ExecuteReader();
        long calls = 0;
        int column = reader.GetOrdinal("rpc_calls");
        while (reader.Read()) calls += reader.GetInt64(column);
        return calls;
    }

    /// <summary>Waits until STALL has received more than `before` RPC calls: the call under test
    /// has then reached the server, which holds it (it is past the binding's own checks, inside
    /// the native call). Polls for at most 10 s, so a call that never arrives fails the test
    /// instead of hanging it.</summary>
    public void WaitForStalledCall(long before)
    {
        var waited = Stopwatch.StartNew();
        while (StallRpcCalls() <= before)
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(10))
                throw new TimeoutException("STALL did not receive the call under test within 10 s");
            Thread.Sleep(20);
        }
    }

    public static SecureString Secure(string text)
    {
        var secure = new SecureString();
        foreach (char c in text) secure.AppendChar(c);
        secure.MakeReadOnly();
        return secure;
    }

    /// <summary>abi2/: exports lsv_abi_version only, reporting ABI 2.0; abi-only/: ABI 1.0 but
    /// nothing else; not-a-library.so: a text file.</summary>
    private void BuildFixtures()
    {
        string source = Path.Combine(Fixtures, "abi.c");
        File.WriteAllText(source, "unsigned int lsv_abi_version(void) { return FIXTURE_ABI; }\n");
        foreach (var (folder, abi) in new[] { ("abi2", "(2u << 16)"), ("abi-only", "(1u << 16)") })
        {
            Directory.CreateDirectory(Path.Combine(Fixtures, folder));
            var gcc = new ProcessStartInfo("gcc") { RedirectStandardError = true };
            foreach (var arg in new[] { "-shared", "-fPIC", $"-DFIXTURE_ABI={abi}", "-o",
                         Path.Combine(Fixtures, folder, "liblinkedsrv.so"), source })
                gcc.ArgumentList.Add(arg);
            using var process = Process.Start(gcc) ?? throw new InvalidOperationException("gcc did not start");
            string errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new InvalidOperationException("gcc failed (the loader fixtures need it): " + errors);
        }
        File.WriteAllText(Path.Combine(Fixtures, "not-a-library.so"), "this is not a shared library\n");
    }

    public void Dispose()
    {
        Mgmt.Dispose();
        Stall.Dispose();
        Peer.Dispose();
        try { Directory.Delete(Fixtures, true); } catch (IOException) { }
    }
}

[CollectionDefinition("stand-ins")]
public sealed class StandInCollection : ICollectionFixture<Servers>
{
}

/// <summary>Assertions shared by the classes: a LinkedServerException with its status and number.</summary>
public static class Expect
{
    public static LinkedServerException Fails(LinkedServerStatus status, int number, Action action)
    {
        var error = Assert.Throws<LinkedServerException>(action);
        Assert.Equal(status, error.Status);
        if (number >= 0) Assert.Equal(number, error.Number);
        return error;
    }
}
