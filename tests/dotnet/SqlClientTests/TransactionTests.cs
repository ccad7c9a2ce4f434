using System.Data;
using Microsoft.Data.SqlClient;
using Xunit;

using LinkedSrv.DotnetTests;

namespace LinkedSrv.SqlClientTests;

/// <summary>What admin tools built on SqlClient also do: API transactions (transaction manager
/// requests and the ENVCHANGE transaction descriptors) and prepared commands (sp_prepexec,
/// sp_execute).</summary>
public class TransactionTests
{
    private static object? Scalar(SqlConnection c, string sql, SqlTransaction? tx = null)
    {
        using var cmd = new SqlCommand(sql, c, tx);
        return cmd.ExecuteScalar();
    }

    [Fact]
    public void ApiTransactionsCommitAndRollBack()
    {
        using var s = StandIn.WithBizTalk("TX01");
        using var c = new SqlConnection(s.ConnectionString(extra: "Encrypt=Mandatory;Pooling=false;" + s.TrustedByCertificate));
        c.Open();
        using (var tx = c.BeginTransaction())
        {
            Assert.Equal(1, Scalar(c, "SELECT @@TRANCOUNT", tx));
            // The linked-server procedures refuse to run inside a transaction, as on SQL Server.
            using var add = new SqlCommand("sp_addlinkedserver", c, tx) { CommandType = CommandType.StoredProcedure };
            add.Parameters.Add("@server", SqlDbType.NVarChar, 128).Value = "INTX";
            var e = Assert.Throws<SqlException>(() => add.ExecuteNonQuery());
            Assert.Equal(15002, e.Number);
            tx.Rollback();
        }
        Assert.Equal(0, Scalar(c, "SELECT @@TRANCOUNT"));
        using (var tx = c.BeginTransaction(IsolationLevel.ReadCommitted))
        {
            Assert.Equal(1, Scalar(c, "SELECT @@TRANCOUNT", tx));
            tx.Commit();
        }
        Assert.Equal(0, Scalar(c, "SELECT @@TRANCOUNT"));
    }

    [Fact]
    public void PreparedCommandRunsWithNewValues()
    {
        using var s = new StandIn("PREP01");
        using var c = new SqlConnection(s.ConnectionString(extra: "Encrypt=Mandatory;Pooling=false;" + s.TrustedByCertificate));
        c.Open();
        using (var add = new SqlCommand("sp_addlinkedserver", c) { CommandType = CommandType.StoredProcedure })
        {
            add.Parameters.Add("@server", SqlDbType.NVarChar, 128).Value = "PREPARED_LINK";
            add.Parameters.Add("@srvproduct", SqlDbType.NVarChar, 128).Value = "SQL Server";
            add.ExecuteNonQuery();
        }
        using var cmd = new SqlCommand("SELECT COUNT(*) FROM sys.servers WHERE name = @n", c);
        var name = cmd.Parameters.Add("@n", SqlDbType.NVarChar, 128);
        cmd.Prepare();
        name.Value = "PREPARED_LINK";
        Assert.Equal(1, cmd.ExecuteScalar());
        name.Value = "NO_SUCH_LINK";
        Assert.Equal(0, cmd.ExecuteScalar());
        name.Value = "prepared_link"; // the instance collation is case-insensitive
        Assert.Equal(1, cmd.ExecuteScalar());
    }
}
