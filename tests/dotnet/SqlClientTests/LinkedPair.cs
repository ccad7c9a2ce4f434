using System;
using System.Data;
using Microsoft.Data.SqlClient;

using LinkedSrv.DotnetTests;

namespace LinkedSrv.SqlClientTests;

/// <summary>
/// Two stand-ins: A (the management instance) with a linked server B pointing at the second
/// stand-in B, which hosts BizTalkMsgBoxDb. A's logins map to themselves on B (same sa password).
/// </summary>
public sealed class LinkedPair : IDisposable
{
    public StandIn B { get; }
    public StandIn A { get; }

    public LinkedPair()
    {
        B = StandIn.WithBizTalk("B");
        try
        {
            A = StandIn.WithBizTalk("A", "--peer", $"B={B.Host}:{B.Port}");
        }
        catch
        {
            B.Dispose();
            throw;
        }
        using var c = OpenA();
        Procedure(c, "sp_addlinkedserver", ("@server", "B"), ("@srvproduct", "SQL Server"));
    }

    public SqlConnection OpenA(string extra = "Pooling=false;")
    {
        var c = new SqlConnection(A.ConnectionString(extra: A.TrustedByCertificate + "Encrypt=Mandatory;" + extra));
        c.Open();
        return c;
    }

    public SqlConnection OpenB()
    {
        var c = new SqlConnection(B.ConnectionString(extra: B.TrustedByCertificate + "Encrypt=Mandatory;Pooling=false;"));
        c.Open();
        return c;
    }

    /// <summary>Calls a procedure as an RPC with nvarchar parameters; returns its return status.</summary>
    public static int Procedure(SqlConnection c, string name, params (string Name, object? Value)[] args)
    {
        using var cmd = new SqlCommand(name, c) { CommandType = CommandType.StoredProcedure };
        foreach (var (argName, value) in args)
            cmd.Parameters.Add(new SqlParameter(argName, SqlDbType.NVarChar, 4000) { Value = value ?? DBNull.Value });
        var rc = cmd.Parameters.Add(new SqlParameter("@RETURN_VALUE", SqlDbType.Int) { Direction = ParameterDirection.ReturnValue });
        cmd.ExecuteNonQuery();
        return (int)rc.Value;
    }

    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
    }
}
