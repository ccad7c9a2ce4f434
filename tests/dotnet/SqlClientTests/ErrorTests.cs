using System;
using System.Collections.Generic;
using System.Data;
using System.Linq;
using Microsoft.Data.SqlClient;
using Xunit;

using LinkedSrv.DotnetTests;

namespace LinkedSrv.SqlClientTests;

/// <summary>SQL Server's errors as SqlClient surfaces them: SqlException and every SqlError.</summary>
public class ErrorTests : IClassFixture<ErrorTests.Pair>
{
    public sealed class Pair : IDisposable
    {
        public LinkedPair Servers { get; } = new();
        public void Dispose() => Servers.Dispose();
    }

    private readonly LinkedPair pair;

    public ErrorTests(Pair fixture) => pair = fixture.Servers;

    private string DataSourceA => $"tcp:localhost,{pair.A.Port}";

    private static SqlException Fails(SqlConnection c, string sql, CommandType type = CommandType.Text, params (string, object)[] args)
    {
        using var cmd = new SqlCommand(sql, c) { CommandType = type };
        foreach (var (name, value) in args)
            cmd.Parameters.Add(new SqlParameter(name, SqlDbType.NVarChar, 128) { Value = value });
        return Assert.Throws<SqlException>(() => cmd.ExecuteNonQuery());
    }

    private record Expected(int Number, byte Class, byte State, string Procedure, int Line, string Message);

    private void AssertErrors(SqlException e, params Expected[] expected)
    {
        var errors = e.Errors.Cast<SqlError>().ToList();
        Assert.Equal(expected.Select(x => x.Number), errors.Select(x => x.Number));
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Class, errors[i].Class);
            Assert.Equal(expected[i].State, errors[i].State);
            Assert.Equal(expected[i].Procedure, errors[i].Procedure);
            Assert.Equal(expected[i].Line, errors[i].LineNumber);
            Assert.Equal(expected[i].Message, errors[i].Message);
            // SqlClient names the data source it connected to, whichever server raised the error.
            Assert.Equal(DataSourceA, errors[i].Server);
        }
        // The exception's own fields are those of the first error.
        Assert.Equal(expected[0].Number, e.Number);
        Assert.Equal(expected[0].Class, e.Class);
        Assert.Equal(expected[0].State, e.State);
        Assert.Equal(expected[0].Procedure, e.Procedure);
        Assert.Equal(expected[0].Line, e.LineNumber);
        Assert.Equal(DataSourceA, e.Server);
    }

    [Fact]
    public void UnknownServer15015FromAnRpc()
    {
        using var c = pair.OpenA();
        var e = Fails(c, "sp_dropserver", CommandType.StoredProcedure, ("@server", "NOPE"));
        AssertErrors(e, new Expected(15015, 16, 1, "sys.sp_dropserver", 1,
            "The server 'NOPE' does not exist. Use sp_helpserver to show available servers."));
    }

    [Fact]
    public void DuplicateServer15028()
    {
        using var c = pair.OpenA();
        var e = Fails(c, "sp_addlinkedserver", CommandType.StoredProcedure, ("@server", "b"), ("@srvproduct", "SQL Server"));
        AssertErrors(e, new Expected(15028, 16, 1, "sys.sp_addlinkedserver", 102, "The server 'b' already exists."));
    }

    [Fact]
    public void ServerWithLogins15190()
    {
        using var c = pair.OpenA();
        Assert.Equal(0, LinkedPair.Procedure(c, "sp_addlinkedserver", ("@server", "WITHLOGINS"), ("@srvproduct", "SQL Server")));
        Assert.Equal(0, LinkedPair.Procedure(c, "sp_addlinkedsrvlogin", ("@rmtsrvname", "WITHLOGINS"), ("@useself", "FALSE"),
            ("@locallogin", "app"), ("@rmtuser", "remote"), ("@rmtpassword", "x")));
        var e = Fails(c, "sp_dropserver", CommandType.StoredProcedure, ("@server", "WITHLOGINS"));
        AssertErrors(e, new Expected(15190, 16, 1, "sys.sp_dropserver", 56,
            "There are still remote logins or linked logins for the server 'WITHLOGINS'."));
        Assert.Equal(0, LinkedPair.Procedure(c, "sp_dropserver", ("@server", "WITHLOGINS"), ("@droplogins", "droplogins")));
    }

    [Fact]
    public void UnknownProcedure2812InABatch()
    {
        using var c = pair.OpenA();
        var e = Fails(c, "SELECT 1; EXEC dbo.no_such_proc");
        AssertErrors(e, new Expected(2812, 16, 62, "", 1, "Could not find stored procedure 'dbo.no_such_proc'."));
    }

    [Fact]
    public void UnknownLinkedServer7202()
    {
        using var c = pair.OpenA();
        var e = Fails(c, "EXEC [NOPE].master.dbo.sp_GetServerName");
        AssertErrors(e, new Expected(7202, 11, 2, "", 1,
            "Could not find server 'NOPE' in sys.servers. Verify that the correct server name was specified. " +
            "If necessary, execute the stored procedure sp_addlinkedserver to add the server to sys.servers."));
    }

    [Fact]
    public void RpcOutOff7411()
    {
        using var c = pair.OpenA();
        Assert.Equal(0, LinkedPair.Procedure(c, "sp_addlinkedserver", ("@server", "NORPC"), ("@srvproduct", ""),
            ("@provider", "MSOLEDBSQL"), ("@datasrc", "B")));
        var e = Fails(c, "EXEC [NORPC].master.dbo.sp_GetServerName");
        AssertErrors(e, new Expected(7411, 16, 1, "", 1, "Server 'NORPC' is not configured for RPC."));
    }

    [Fact]
    public void RemoteLoginFailure18456ThroughTheLink()
    {
        using var c = pair.OpenA();
        Assert.Equal(0, LinkedPair.Procedure(c, "sp_addlinkedserver", ("@server", "BADPW"), ("@srvproduct", ""),
            ("@provider", "MSOLEDBSQL"), ("@datasrc", "B")));
        Assert.Equal(0, LinkedPair.Procedure(c, "sp_serveroption", ("@server", "BADPW"), ("@optname", "rpc out"), ("@optvalue", "true")));
        Assert.Equal(0, LinkedPair.Procedure(c, "sp_addlinkedsrvlogin", ("@rmtsrvname", "BADPW"), ("@useself", "FALSE"),
            ("@locallogin", null), ("@rmtuser", "sa"), ("@rmtpassword", "not-the-password")));
        var e = Fails(c, "EXEC [BADPW].master.dbo.sp_GetServerName");
        AssertErrors(e, new Expected(18456, 14, 1, "", 1, "Login failed for user 'sa'."));
    }

    /// <summary>An unreachable data source: the provider's INFO 7412 (class 0) travels with the
    /// 7303 error in the exception's Errors.</summary>
    [Fact]
    public void UnreachableLinkIsInfo7412ThenError7303()
    {
        using var c = pair.OpenA();
        Assert.Equal(0, LinkedPair.Procedure(c, "sp_addlinkedserver", ("@server", "GONE"), ("@srvproduct", ""),
            ("@provider", "MSOLEDBSQL"), ("@datasrc", "tcp:127.0.0.1,1")));
        Assert.Equal(0, LinkedPair.Procedure(c, "sp_serveroption", ("@server", "GONE"), ("@optname", "rpc out"), ("@optvalue", "true")));
        var e = Fails(c, "EXEC [GONE].master.dbo.sp_GetServerName");
        // SqlClient lists a batch's errors first and its warnings after them, whatever the order
        // on the wire (there the INFO comes first; the stand-in's Rust tests check that).
        var errors = e.Errors.Cast<SqlError>().ToList();
        Assert.Equal(new[] { 7303, 7412 }, errors.Select(x => x.Number));
        Assert.Equal(new byte[] { 16, 0 }, errors.Select(x => x.Class));
        Assert.Equal("Cannot initialize the data source object of OLE DB provider \"MSOLEDBSQL\" for linked server \"GONE\".",
            errors[0].Message);
        Assert.StartsWith("OLE DB provider \"MSOLEDBSQL\" for linked server \"GONE\" returned message", errors[1].Message);
        Assert.Equal(7303, e.Number); // the exception takes the first error, not the INFO
    }

    [Fact]
    public void EveryErrorOfABatchIsInErrors()
    {
        using var c = pair.OpenA();
        var e = Fails(c, "EXEC sp_dropserver N'X1'; EXEC sp_dropserver N'X2'; EXEC [NOPE].master.dbo.sp_GetServerName");
        AssertErrors(e,
            new Expected(15015, 16, 1, "sys.sp_dropserver", 1, "The server 'X1' does not exist. Use sp_helpserver to show available servers."),
            new Expected(15015, 16, 1, "sys.sp_dropserver", 1, "The server 'X2' does not exist. Use sp_helpserver to show available servers."),
            new Expected(7202, 11, 2, "", 1,
                "Could not find server 'NOPE' in sys.servers. Verify that the correct server name was specified. " +
                "If necessary, execute the stored procedure sp_addlinkedserver to add the server to sys.servers."));
    }

    [Fact]
    public void InfoMessagesArriveThroughInfoMessageWithTheirNumbers()
    {
        using var c = pair.OpenA();
        var seen = new List<(int Number, byte Class, string Message)>();
        c.InfoMessage += (_, args) => seen.AddRange(args.Errors.Cast<SqlError>().Select(x => (x.Number, x.Class, x.Message)));
        using (var cmd = new SqlCommand("PRINT N'hello'; USE BizTalkMgmtDb; USE master", c))
            cmd.ExecuteNonQuery();
        Assert.Equal(new[]
        {
            (0, (byte)0, "hello"),
            (5701, (byte)0, "Changed database context to 'BizTalkMgmtDb'."),
            (5701, (byte)0, "Changed database context to 'master'."),
        }, seen);
        Assert.Equal("master", c.Database);
    }

    [Fact]
    public void ChangeDatabaseFollowsTheEnvChange()
    {
        using var c = pair.OpenA();
        var seen = new List<int>();
        c.InfoMessage += (_, args) => seen.AddRange(args.Errors.Cast<SqlError>().Select(x => x.Number));
        c.ChangeDatabase("BizTalkMgmtDb");
        Assert.Equal("BizTalkMgmtDb", c.Database);
        using (var cmd = new SqlCommand("SELECT DB_NAME()", c))
            Assert.Equal("BizTalkMgmtDb", cmd.ExecuteScalar());
        Assert.Equal(new[] { 5701 }, seen);
        var e = Assert.Throws<SqlException>(() => c.ChangeDatabase("NoSuchDb"));
        Assert.Equal(911, e.Number);
        Assert.Equal("BizTalkMgmtDb", c.Database);
    }
}
