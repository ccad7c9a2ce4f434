#nullable enable
using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LinkedServer.Interop;
using Xunit;
using static LinkedSrv.BindingTests.Expect;

namespace LinkedSrv.BindingTests;

/// <summary>One client shared by 16 threads, Dispose racing calls and during a call, Cancel and a
/// CancellationToken interrupting a call the server never answers.</summary>
[Collection("stand-ins")]
public class ConcurrencyTests
{
    private readonly Servers servers;

    public ConcurrencyTests(Servers servers) => this.servers = servers;

    [Fact]
    public void SixteenThreadsShareOneClient()
    {
        using var client = servers.Sa();
        client.Create("THREADS", new LinkedServerSpec { Product = "SQL Server" });
        int successes = 0;
        var failures = new List<string>();
        var threads = Enumerable.Range(0, 16).Select(id => new Thread(() =>
        {
            for (int i = 0; i < 10; i++)
            {
                try
                {
                    if (client.Get("THREADS").Name != "THREADS") throw new InvalidOperationException("wrong server");
                    client.SetOption("THREADS", "query timeout", (id * 10 + i).ToString());
                    if (client.List().All(s => s.Name != "THREADS")) throw new InvalidOperationException("not listed");
                    var error = Assert.Throws<LinkedServerException>(() => client.Drop("Missing" + id, false));
                    if (error.Status != LinkedServerStatus.NotFound || error.Number != 15015)
                        throw new InvalidOperationException($"concurrent error {error.Status} {error.Number}");
                    Interlocked.Increment(ref successes);
                }
                catch (Exception e)
                {
                    lock (failures) failures.Add(e.Message);
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Empty(failures);
        Assert.Equal(160, successes);
        int timeout = client.Get("THREADS").QueryTimeout;
        Assert.InRange(timeout, 0, 159);
        client.Drop("THREADS", true);
    }

    [Fact]
    public void DisposeAndCallsAfterIt()
    {
        var client = servers.Sa();
        client.Dispose();
        Assert.True(client.IsClosed);
        Assert.Throws<ObjectDisposedException>(() => client.List());
        Assert.Throws<ObjectDisposedException>(() => client.Get("X"));
        client.Dispose();
        Assert.True(client.IsClosed);
        client.Cancel(); // nothing runs: a no-op, also after Dispose
        for (int i = 0; i < 5; i++) servers.Sa();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var again = servers.Sa();
        Assert.NotNull(again.List());
    }

    /// <summary>Dispose while a call waits for the server: the call keeps its reference on the
    /// handle and ends on its own (here with its command timeout), never on a freed client.</summary>
    [Fact]
    public void DisposeDuringACall()
    {
        var client = servers.StallingClient(seconds: 2);
        long before = servers.StallRpcCalls();
        Exception? thrown = null;
        var call = new Thread(() =>
        {
            try { client.Drop("NOWHERE", true); }
            catch (Exception e) { thrown = e; }
        });
        call.Start();
        servers.WaitForStalledCall(before);
        client.Dispose();
        Assert.True(client.IsClosed);
        Assert.Throws<ObjectDisposedException>(() => client.List());
        call.Join();
        var error = Assert.IsType<LinkedServerException>(thrown);
        Assert.Equal(LinkedServerStatus.Timeout, error.Status);
        using var again = servers.Sa();
        Assert.NotNull(again.List());
    }

    [Fact]
    public void DisposeWhileEightThreadsAreCalling()
    {
        var client = servers.Sa();
        var started = new CountdownEvent(8);
        int successes = 0, disposed = 0;
        var unexpected = new List<string>();
        var threads = Enumerable.Range(0, 8).Select(_ => new Thread(() =>
        {
            bool first = true;
            for (int i = 0; i < 2000; i++)
            {
                try
                {
                    client.List();
                    Interlocked.Increment(ref successes);
                }
                catch (ObjectDisposedException)
                {
                    Interlocked.Increment(ref disposed);
                    break;
                }
                catch (Exception e)
                {
                    lock (unexpected) unexpected.Add(e.GetType().Name + ": " + e.Message);
                    break;
                }
                finally
                {
                    if (first) started.Signal();
                    first = false;
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        started.Wait();
        client.Dispose();
        threads.ForEach(t => t.Join());
        Assert.Empty(unexpected);
        Assert.Equal(8, disposed);
        Assert.True(successes >= 8);
        Assert.True(client.IsClosed);
    }

    /// <summary>Runs Drop on a thread, waits until the server holds it (stalled), then calls
    /// `cancel` once and returns what Drop threw.</summary>
    private Exception? StalledDrop(LinkedServerClient client, Action cancel)
    {
        long before = servers.StallRpcCalls();
        Exception? thrown = null;
        var call = new Thread(() =>
        {
            try { client.Drop("NOWHERE", true); }
            catch (Exception e) { thrown = e; }
        });
        call.Start();
        servers.WaitForStalledCall(before);
        cancel();
        call.Join();
        return thrown;
    }

    [Fact]
    public void CancelInterruptsAStalledCall()
    {
        using var client = servers.StallingClient();
        client.Cancel(); // no call: nothing happens
        var error = Assert.IsType<LinkedServerException>(StalledDrop(client, client.Cancel));
        Assert.Equal(LinkedServerStatus.Cancelled, error.Status);
        // The drop was sent and abandoned: the server may have run it.
        Assert.True(error.OutcomeUncertain);
        Assert.False(error.UndoFailed);
        Assert.Equal("OperationStopped", error.ErrorCategory);
        Assert.Empty(client.List());
    }

    [Fact]
    public void CancellationTokenInterruptsAStalledCall()
    {
        using var client = servers.StallingClient();
        using var source = new CancellationTokenSource();
        client.CancellationToken = source.Token;
        var error = Assert.IsType<OperationCanceledException>(StalledDrop(client, source.Cancel));
        Assert.Equal(source.Token, error.CancellationToken);
        var inner = Assert.IsType<LinkedServerException>(error.InnerException);
        Assert.Equal(LinkedServerStatus.Cancelled, inner.Status);
        // A cancelled token stops the next call before it starts.
        Assert.Throws<OperationCanceledException>(() => client.List());
        client.CancellationToken = CancellationToken.None;
        Assert.Empty(client.List());
    }

    /// <summary>The binding is synchronous; Task.Run with a token is how async callers use it.</summary>
    [Fact]
    public async Task CancellationTokenFromAsyncCode()
    {
        using var client = servers.StallingClient();
        using var source = new CancellationTokenSource();
        client.CancellationToken = source.Token;
        long before = servers.StallRpcCalls();
        var call = Task.Run(() => client.Drop("NOWHERE", true));
        await Task.Run(() => servers.WaitForStalledCall(before));
        source.Cancel();
        var error = await Assert.ThrowsAsync<OperationCanceledException>(() => call);
        Assert.Equal(source.Token, error.CancellationToken);
        // lsv_cancel ended the native call: its Cancelled error is the inner exception.
        var inner = Assert.IsType<LinkedServerException>(error.InnerException);
        Assert.Equal(LinkedServerStatus.Cancelled, inner.Status);
    }
}
