using System;
using System.Collections.Generic;
using System.Data;
using System.Linq;
using Microsoft.Data.SqlClient;
using Xunit;

using LinkedSrv.DotnetTests;

namespace LinkedSrv.SqlClientTests;

public class ProcedureTests
{
    private static List<object?[]> Rows(SqlDataReader r)
    {
        var rows = new List<object?[]>();
        while (r.Read())
        {
            var row = new object?[r.FieldCount];
            r.GetValues(row!);
            rows.Add(row.Select(v => v is DBNull ? null : v).ToArray());
        }
        return rows;
    }

    [Fact]
    public void BatchWithSeveralResultSets()
    {
        using var pair = new LinkedPair();
        using var c = pair.OpenA();
        using var cmd = new SqlCommand(
            "SELECT 1 AS one, N'x' AS letter; SELECT name, product FROM sys.servers ORDER BY server_id; " +
            "SELECT CAST(NULL AS int) AS nothing, @@SERVERNAME AS me", c);
        using var r = cmd.ExecuteReader();
        Assert.Equal(new[] { "one", "letter" }, Enumerable.Range(0, r.FieldCount).Select(r.GetName));
        Assert.Equal(new object?[] { 1, "x" }, Assert.Single(Rows(r)));
        Assert.True(r.NextResult());
        Assert.Equal(new[] { "name", "product" }, Enumerable.Range(0, r.FieldCount).Select(r.GetName));
        var servers = Rows(r);
        Assert.Equal(new object?[] { "A", "SQL Server" }, servers[0]);
        Assert.Equal(new object?[] { "B", "SQL Server" }, servers[1]);
        Assert.True(r.NextResult());
        Assert.Equal(typeof(int), r.GetFieldType(0));
        Assert.Equal(new object?[] { null, "A" }, Assert.Single(Rows(r)));
        Assert.False(r.NextResult());
    }

    private static SqlParameter ReturnValue(SqlCommand cmd)
        => cmd.Parameters.Add(new SqlParameter("@RETURN_VALUE", SqlDbType.Int) { Direction = ParameterDirection.ReturnValue });

    private static SqlCommand Proc(SqlConnection c, string name) => new(name, c) { CommandType = CommandType.StoredProcedure };

    [Fact]
    public void EveryLinkedServerProcedureWithTypedParameters()
    {
        using var pair = new LinkedPair();
        using var c = pair.OpenA();

        // sp_addlinkedserver: sysname, NULLs and an nvarchar(max) provider string.
        using (var cmd = Proc(c, "sp_addlinkedserver"))
        {
            cmd.Parameters.Add("@server", SqlDbType.NVarChar, 128).Value = "LINK]';--ü";
            cmd.Parameters.Add("@srvproduct", SqlDbType.NVarChar, 128).Value = "";
            cmd.Parameters.Add("@provider", SqlDbType.NVarChar, 128).Value = "MSOLEDBSQL";
            cmd.Parameters.Add("@datasrc", SqlDbType.NVarChar, 4000).Value = "B";
            cmd.Parameters.Add("@location", SqlDbType.NVarChar, 4000).Value = DBNull.Value;
            cmd.Parameters.Add("@provstr", SqlDbType.NVarChar, -1).Value = "App=x;" + new string('p', 100);
            cmd.Parameters.Add("@catalog", SqlDbType.NVarChar, 128).Value = DBNull.Value;
            var rc = ReturnValue(cmd);
            cmd.ExecuteNonQuery();
            Assert.Equal(0, rc.Value);
        }
        using (var cmd = new SqlCommand("SELECT provider, data_source, location, provider_string, catalog, is_rpc_out_enabled FROM sys.servers WHERE name = @n", c))
        {
            cmd.Parameters.Add("@n", SqlDbType.NVarChar, 128).Value = "LINK]';--ü";
            using var r = cmd.ExecuteReader();
            Assert.Equal(new object?[] { "MSOLEDBSQL", "B", null, "App=x;" + new string('p', 100), null, false }, Assert.Single(Rows(r)));
        }

        // sp_serveroption: varchar(35) option name, nvarchar(128) value.
        using (var cmd = Proc(c, "sp_serveroption"))
        {
            cmd.Parameters.Add("@server", SqlDbType.NVarChar, 128).Value = "LINK]';--ü";
            cmd.Parameters.Add("@optname", SqlDbType.VarChar, 35).Value = "rpc out";
            cmd.Parameters.Add("@optvalue", SqlDbType.NVarChar, 128).Value = "true";
            var rc = ReturnValue(cmd);
            cmd.ExecuteNonQuery();
            Assert.Equal(0, rc.Value);
        }

        // sp_addlinkedsrvlogin: a remote login for every local login, then one for sa as self.
        using (var cmd = Proc(c, "sp_addlinkedsrvlogin"))
        {
            cmd.Parameters.Add("@rmtsrvname", SqlDbType.NVarChar, 128).Value = "LINK]';--ü";
            cmd.Parameters.Add("@useself", SqlDbType.VarChar, 8).Value = "FALSE";
            cmd.Parameters.Add("@locallogin", SqlDbType.NVarChar, 128).Value = DBNull.Value;
            cmd.Parameters.Add("@rmtuser", SqlDbType.NVarChar, 128).Value = "sa";
            cmd.Parameters.Add("@rmtpassword", SqlDbType.NVarChar, 128).Value = StandIn.SaPassword;
            var rc = ReturnValue(cmd);
            cmd.ExecuteNonQuery();
            Assert.Equal(0, rc.Value);
        }
        Assert.Equal(0, LinkedPair.Procedure(c, "sp_addlinkedsrvlogin", ("@rmtsrvname", "LINK]';--ü"), ("@useself", "TRUE"), ("@locallogin", "app")));

        // sp_testlinkedserver: crosses to B with the stored remote login.
        using (var cmd = Proc(c, "sp_testlinkedserver"))
        {
            cmd.Parameters.Add("@servername", SqlDbType.NVarChar, 128).Value = "LINK]';--ü";
            var rc = ReturnValue(cmd);
            cmd.ExecuteNonQuery();
            Assert.Equal(0, rc.Value);
        }

        // Catalog procedures: result sets, then the return status.
        using (var cmd = Proc(c, "sp_helplinkedsrvlogin"))
        {
            cmd.Parameters.Add("@rmtsrvname", SqlDbType.NVarChar, 128).Value = "LINK]';--ü";
            cmd.Parameters.Add("@locallogin", SqlDbType.NVarChar, 128).Value = DBNull.Value;
            var rc = ReturnValue(cmd);
            List<object?[]> rows;
            using (var r = cmd.ExecuteReader())
                rows = Rows(r);
            Assert.Equal(0, rc.Value);
            Assert.Contains(rows, row => Equals(row[1], null) && Equals(row[3], "sa"));
            Assert.Contains(rows, row => Equals(row[1], "app") && Equals(row[2], (short)1));
        }
        foreach (var name in new[] { "sp_linkedservers", "sp_helpserver" })
        {
            using var cmd = Proc(c, name);
            var rc = ReturnValue(cmd);
            List<object?[]> rows;
            using (var r = cmd.ExecuteReader())
                rows = Rows(r);
            Assert.Equal(0, rc.Value);
            Assert.Contains(rows, row => Equals(row[0], "LINK]';--ü"));
            Assert.Contains(rows, row => Equals(row[0], "B"));
        }

        // sp_droplinkedsrvlogin, then sp_dropserver with droplogins.
        using (var cmd = Proc(c, "sp_droplinkedsrvlogin"))
        {
            cmd.Parameters.Add("@rmtsrvname", SqlDbType.NVarChar, 128).Value = "LINK]';--ü";
            cmd.Parameters.Add("@locallogin", SqlDbType.NVarChar, 128).Value = "app";
            var rc = ReturnValue(cmd);
            cmd.ExecuteNonQuery();
            Assert.Equal(0, rc.Value);
        }
        using (var cmd = Proc(c, "sp_dropserver"))
        {
            cmd.Parameters.Add("@server", SqlDbType.NVarChar, 128).Value = "LINK]';--ü";
            cmd.Parameters.Add("@droplogins", SqlDbType.Char, 10).Value = "droplogins";
            var rc = ReturnValue(cmd);
            cmd.ExecuteNonQuery();
            Assert.Equal(0, rc.Value);
        }
        using (var cmd = new SqlCommand("SELECT COUNT(*) FROM sys.servers", c))
            Assert.Equal(2, cmd.ExecuteScalar());
    }

    [Fact]
    public void OutputParameterOfAFourPartCallThroughALink()
    {
        using var pair = new LinkedPair();
        using var c = pair.OpenA();
        using var cmd = Proc(c, "[B].[BizTalkMsgBoxDb].[dbo].[sp_GetServerName]");
        var name = cmd.Parameters.Add(new SqlParameter("@ServerName", SqlDbType.NVarChar, 128) { Direction = ParameterDirection.Output });
        var rc = ReturnValue(cmd);
        cmd.ExecuteNonQuery();
        Assert.Equal("B", name.Value);
        Assert.Equal(0, rc.Value);
    }

    private const string GetServerNameBatch =
        "DECLARE @n sysname; EXEC [B].[BizTalkMsgBoxDb].[dbo].[sp_GetServerName] @n OUTPUT; SELECT @n";

    [Fact]
    public void BatchAssignsTheOutputOfAFourPartCallToTheLocalVariable()
    {
        using var pair = new LinkedPair();
        using (var b = pair.OpenB())
        using (var local = new SqlCommand("DECLARE @n sysname; EXEC [BizTalkMsgBoxDb].[dbo].[sp_GetServerName] @n OUTPUT; SELECT @n", b))
            Assert.Equal("B", local.ExecuteScalar());
        using var c = pair.OpenA();
        using var cmd = new SqlCommand(GetServerNameBatch, c);
        Assert.Equal("B", cmd.ExecuteScalar());
    }

    [Fact]
    public void ParameterisedBatchThroughALinkReturnsTheOutput()
    {
        using var pair = new LinkedPair();
        using var c = pair.OpenA();
        // sp_executesql with an OUTPUT parameter bound to the four-part call's OUTPUT.
        using var cmd = new SqlCommand("EXEC [B].[BizTalkMsgBoxDb].[dbo].[sp_GetServerName] @name OUTPUT", c);
        var name = cmd.Parameters.Add(new SqlParameter("@name", SqlDbType.NVarChar, 128) { Direction = ParameterDirection.Output });
        cmd.ExecuteNonQuery();
        Assert.Equal("B", name.Value);
    }
}
