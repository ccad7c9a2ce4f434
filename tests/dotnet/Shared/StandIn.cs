#nullable enable
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;

namespace LinkedSrv.DotnetTests;

/// <summary>
/// One tds-standin process on a loopback port, started from the binary that run.sh built
/// (LSV_STANDIN_BIN) and killed on Dispose. The certificate goes to a file of its own.
/// </summary>
public sealed class StandIn : IDisposable
{
    public const string SaPassword = "Str0ng!Passw0rd";

    private readonly Process process;
    private readonly string directory;

    public string Name { get; }
    public string Host { get; }
    public int Port { get; }
    public string CertPath { get; }

    public StandIn(string name, string encrypt = "on", params string[] extraArgs)
    {
        var binary = Environment.GetEnvironmentVariable("LSV_STANDIN_BIN");
        if (string.IsNullOrEmpty(binary))
            throw new InvalidOperationException(
                "LSV_STANDIN_BIN is not set: run tests/dotnet/run.sh, which builds tds-standin with cargo and sets it");
        if (!File.Exists(binary))
            throw new FileNotFoundException($"LSV_STANDIN_BIN points to a missing file: {binary}");

        Name = name;
        directory = Directory.CreateTempSubdirectory("lsv-sqlclient-").FullName;
        CertPath = Path.Combine(directory, name + ".pem");
        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     "--listen", "127.0.0.1:0", "--server-name", name,
                     "--login", $"sa:{SaPassword}:sysadmin", "--login", "app:App!Passw0rd:none",
                     "--encrypt", encrypt, "--cert-out", CertPath,
                 }.Concat(extraArgs))
            info.ArgumentList.Add(arg);
        process = Process.Start(info) ?? throw new InvalidOperationException("tds-standin did not start");
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        var first = process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        if (first is null || !first.StartsWith("listening on ", StringComparison.Ordinal))
        {
            Dispose();
            throw new InvalidOperationException($"tds-standin {name} printed '{first}' instead of 'listening on HOST:PORT'");
        }
        var address = first.Substring("listening on ".Length);
        var colon = address.LastIndexOf(':');
        Host = address.Substring(0, colon);
        Port = int.Parse(address.Substring(colon + 1));
        // Drain stdout so the process never blocks on a full pipe.
        _ = Task.Run(() => process.StandardOutput.ReadToEnd());
    }

    /// <summary>
    /// A stand-in hosting the BizTalk databases (BizTalkMgmtDb, BizTalkMsgBoxDb), whose
    /// dbo.sp_GetServerName answers its own name.
    /// </summary>
    public static StandIn WithBizTalk(string name, params string[] extraArgs)
    {
        var fixture = Path.Combine(Path.GetTempPath(), $"lsv-biztalk-{Guid.NewGuid():N}.json");
        File.WriteAllText(fixture, "{\"databases\": [\"BizTalkMsgBoxDb\"], \"backup_databases\": []}");
        try
        {
            return new StandIn(name, "on", new[] { "--biztalk", fixture }.Concat(extraArgs).ToArray());
        }
        finally
        {
            File.Delete(fixture);
        }
    }

    /// <summary>The stand-in's certificate trusted by file (SqlClient 5.1+ keyword).</summary>
    public string TrustedByCertificate => $"ServerCertificate={CertPath};TrustServerCertificate=false;";

    /// <summary>A connection string for SqlClient; extra is appended as is.</summary>
    public string ConnectionString(string user = "sa", string password = SaPassword, string extra = "")
        => $"Data Source=tcp:localhost,{Port};User ID={user};Password={password};Connect Timeout=15;" + extra;

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
        try { Directory.Delete(directory, true); } catch (IOException) { }
    }
}
