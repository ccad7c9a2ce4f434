using System;
using Microsoft.Data.SqlClient;
using Xunit;

using LinkedSrv.DotnetTests;

namespace LinkedSrv.SqlClientTests;

/// <summary>
/// A pooled connection is reset (RESETCONNECTION in the next request's packet header, what
/// sp_reset_connection does) before its next use: an open transaction and a changed database do
/// not leak from one use into the next.
/// </summary>
public class PoolingTests
{
    private static object? Scalar(SqlConnection c, string sql)
    {
        using var cmd = new SqlCommand(sql, c);
        return cmd.ExecuteScalar();
    }

    /// <summary>RESETCONNECTION requests the stand-in counted on the connection with this @@SPID.</summary>
    private static long Resets(SqlConnection c, short spid)
    {
        using var cmd = new SqlCommand("sp_standin_stats", c) { CommandType = System.Data.CommandType.StoredProcedure };
        using var r = cmd.ExecuteReader();
        while (r.Read())
            if (r.GetInt64(r.GetOrdinal("connection_id")) + 50 == spid) // the stand-in's @@SPID is 50 + connection_id
                return r.GetInt64(r.GetOrdinal("resets"));
        throw new InvalidOperationException($"no statistics for connection {spid}");
    }

    [Fact]
    public void ATransactionLeftOpenDoesNotLeakIntoTheNextUse()
    {
        using var s = StandIn.WithBizTalk("POOL01");
        var cs = s.ConnectionString(extra: "Encrypt=Mandatory;" + s.TrustedByCertificate + "Pooling=true;Max Pool Size=1;");
        short spid;
        using (var c = new SqlConnection(cs))
        {
            c.Open();
            spid = (short)Scalar(c, "SELECT @@SPID")!;
            Scalar(c, "BEGIN TRANSACTION");
            Assert.Equal(1, Scalar(c, "SELECT @@TRANCOUNT"));
            Scalar(c, "USE BizTalkMgmtDb");
            Assert.Equal("BizTalkMgmtDb", c.Database);
        } // back to the pool with the transaction open
        using (var c = new SqlConnection(cs))
        {
            c.Open();
            Assert.Equal(spid, (short)Scalar(c, "SELECT @@SPID")!); // the same pooled connection
            Assert.Equal(0, Scalar(c, "SELECT @@TRANCOUNT"));
            Assert.Equal("master", Scalar(c, "SELECT DB_NAME()"));
            Assert.Equal("master", c.Database);
            // A procedure that refuses to run inside a transaction runs.
            Assert.Equal(0, LinkedPair.Procedure(c, "sp_addlinkedserver", ("@server", "AFTER_RESET"), ("@srvproduct", "SQL Server")));
            Assert.Equal(1L, Resets(c, spid)); // one RESETCONNECTION, on the first request of this use
        }
        SqlConnection.ClearAllPools();
    }

    [Fact]
    public void SetOptionsAreResetBetweenUses()
    {
        using var s = new StandIn("POOL02");
        var cs = s.ConnectionString(extra: "Encrypt=Mandatory;" + s.TrustedByCertificate + "Pooling=true;Max Pool Size=1;");
        using (var c = new SqlConnection(cs))
        {
            c.Open();
            Scalar(c, "SET IMPLICIT_TRANSACTIONS ON");
        }
        using (var c = new SqlConnection(cs))
        {
            c.Open();
            Scalar(c, "SELECT name FROM sys.servers");
            Assert.Equal(0, Scalar(c, "SELECT @@TRANCOUNT"));
        }
        SqlConnection.ClearAllPools();
    }
}
