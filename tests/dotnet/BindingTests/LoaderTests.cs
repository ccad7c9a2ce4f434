#nullable enable
using System;
using System.IO;
using LinkedServer.Interop;
using Xunit;

namespace LinkedSrv.BindingTests;

/// <summary>The binding's own loader on .NET 10: the module layout in the test output
/// (linux-x64/liblinkedsrv.so), the NuGet package layouts, and every way loading fails.</summary>
[Collection("stand-ins")]
public class LoaderTests
{
    private readonly Servers servers;

    public LoaderTests(Servers servers) => this.servers = servers;

    private static string Rid => LinkedServerLibrary.RuntimeIdentifier;

    [Fact]
    public void DefaultPathIsTheRidFolderBesideTheAssembly()
    {
        Assert.Null(Environment.GetEnvironmentVariable(LinkedServerLibrary.PathVariable));
        Assert.Equal(System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier, Rid);
        Assert.Equal("liblinkedsrv.so", LinkedServerLibrary.FileName);
        string output = Path.GetDirectoryName(typeof(LinkedServerLibrary).Assembly.Location)!;
        Assert.Equal(output, LinkedServerLibrary.DefaultBaseDirectory);
        string expected = Path.Combine(output, Rid, "liblinkedsrv.so");
        Assert.Equal(expected, LinkedServerLibrary.DefaultPath);
        var library = LinkedServerLibrary.Load(null);
        Assert.Equal(expected, library.Path);
        Assert.Equal(1u, library.AbiVersion >> 16);
        Assert.True(library.AbiVersion >= 0x10001, "ABI 1.1 or later (lsv_cancel)");
        Assert.NotEmpty(library.Version);
        Assert.Same(library, LinkedServerLibrary.Load(expected));
        Assert.Same(library, LinkedServerLibrary.Load(""));
    }

    /// <summary>A build without a runtime identifier copies a package's native assets to
    /// runtimes/RID/native/; one for a runtime identifier puts them beside the assembly.</summary>
    [Fact]
    public void PackageLayoutsAreFoundWhenTheModuleLayoutIsAbsent()
    {
        string saved = LinkedServerLibrary.DefaultBaseDirectory;
        string source = Path.Combine(saved, Rid, "liblinkedsrv.so");
        string root = Directory.CreateTempSubdirectory("lsv-layout-").FullName;
        try
        {
            LinkedServerLibrary.DefaultBaseDirectory = root;
            Assert.Equal(Path.Combine(root, Rid, "liblinkedsrv.so"), LinkedServerLibrary.DefaultPath);

            string flat = Path.Combine(root, "liblinkedsrv.so");
            File.Copy(source, flat);
            Assert.Equal(flat, LinkedServerLibrary.DefaultPath);

            string native = Path.Combine(root, "runtimes", Rid, "native", "liblinkedsrv.so");
            Directory.CreateDirectory(Path.GetDirectoryName(native)!);
            File.Copy(source, native);
            Assert.Equal(native, LinkedServerLibrary.DefaultPath);
            var library = LinkedServerLibrary.Load(null);
            Assert.Equal(native, library.Path);
            Assert.Equal(1u, library.AbiVersion >> 16);

            string module = Path.Combine(root, Rid, "liblinkedsrv.so");
            Directory.CreateDirectory(Path.GetDirectoryName(module)!);
            File.Copy(source, module);
            Assert.Equal(module, LinkedServerLibrary.DefaultPath);
        }
        finally
        {
            LinkedServerLibrary.DefaultBaseDirectory = saved;
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public void MissingLibraryNamesTheExpectedPathAndTheOverride()
    {
        string saved = LinkedServerLibrary.DefaultBaseDirectory;
        string empty = Directory.CreateTempSubdirectory("lsv-empty-module-").FullName;
        LinkedServerLibrary.DefaultBaseDirectory = empty;
        try
        {
            var error = Assert.Throws<DllNotFoundException>(() => new LinkedServerClient(servers.SaConnectionString));
            Assert.Contains(Path.Combine(empty, Rid, "liblinkedsrv.so"), error.Message);
            Assert.Contains(LinkedServerLibrary.PathVariable, error.Message);
        }
        finally
        {
            LinkedServerLibrary.DefaultBaseDirectory = saved;
            Directory.Delete(empty, true);
        }
    }

    [Fact]
    public void FileThatIsNotALibrary()
    {
        string path = Path.Combine(servers.Fixtures, "not-a-library.so");
        var error = Assert.Throws<DllNotFoundException>(() => LinkedServerLibrary.Load(path));
        Assert.Contains("could not be loaded", error.Message);
        Assert.Contains(path, error.Message);
        Assert.Contains(Rid, error.Message);
    }

    [Fact]
    public void AbiMajorMismatch()
    {
        string path = Path.Combine(servers.Fixtures, "abi2", "liblinkedsrv.so");
        var error = Assert.Throws<NotSupportedException>(() => new LinkedServerClient(servers.SaConnectionString, path));
        Assert.Contains("implements linkedsrv ABI 2.0", error.Message);
        Assert.Contains("needs ABI 1.x", error.Message);
        Assert.Contains(path, error.Message);
        // A failed load is not cached.
        Assert.Throws<NotSupportedException>(() => LinkedServerLibrary.Load(path));
    }

    [Fact]
    public void LibraryWithoutTheExports()
    {
        string path = Path.Combine(servers.Fixtures, "abi-only", "liblinkedsrv.so");
        var error = Assert.Throws<EntryPointNotFoundException>(() => LinkedServerLibrary.Load(path));
        Assert.Contains("'lsv_version'", error.Message);
    }

    [Fact]
    public void EnvironmentOverride()
    {
        string path = Path.Combine(servers.Fixtures, "abi2", "liblinkedsrv.so");
        Environment.SetEnvironmentVariable(LinkedServerLibrary.PathVariable, path);
        try
        {
            Assert.Equal(path, LinkedServerLibrary.DefaultPath);
            Assert.Throws<NotSupportedException>(() => servers.Sa());
        }
        finally
        {
            Environment.SetEnvironmentVariable(LinkedServerLibrary.PathVariable, null);
        }
    }
}
