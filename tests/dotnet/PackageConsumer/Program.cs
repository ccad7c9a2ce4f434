// Creates, lists and drops a linked server through the LinkedServer.Interop package, against the
// instance in LSV_CONNECTION (a stand-in started by tests/dotnet/run.sh). Exit code 0 when every
// step did what it should.
using System;
using System.Linq;
using LinkedServer.Interop;

string? connection = Environment.GetEnvironmentVariable("LSV_CONNECTION");
if (string.IsNullOrEmpty(connection))
{
    Console.Error.WriteLine("LSV_CONNECTION is not set");
    return 2;
}
const string name = "PKG_LINK";
using var client = new LinkedServerClient(connection);
Console.WriteLine($"native library: {client.Library.Path} (ABI {client.Library.AbiVersion >> 16}.{client.Library.AbiVersion & 0xFFFF})");
var spec = new LinkedServerSpec { Product = "SQL Server" };
spec.Options["rpc out"] = true;
client.Create(name, spec);
var listed = client.List().Select(s => s.Name).ToList();
Console.WriteLine("listed: " + string.Join(", ", listed));
bool created = listed.Contains(name) && client.Get(name).RpcOut;
client.Drop(name, true);
bool dropped = !client.List().Any(s => s.Name == name);
Console.WriteLine($"created: {created}, dropped: {dropped}");
return created && dropped ? 0 : 1;
