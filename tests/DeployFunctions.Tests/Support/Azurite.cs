using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using FunctionsHostHarness;

namespace DeployFunctions.Tests.Support;

/// <summary>
/// A real Azurite (the repository's pinned npm package, see <see cref="AzuriteProcess"/>) as an xunit fixture, with
/// in-memory storage, started with the tests and stopped with them.
/// </summary>
public sealed class Azurite : IAsyncLifetime, IAsyncDisposable
{
    /// <summary>The tests' own flags (in-memory, quiet); a test of the run scripts passes theirs instead.</summary>
    private readonly IReadOnlyList<string> flags;
    private AzuriteProcess? process;

    public Azurite()
        : this(AzuriteProcess.TestFlags)
    {
    }

    /// <summary>An Azurite started with <paramref name="flags"/>; hosts and ports are always added (free loopback ports).</summary>
    internal Azurite(IReadOnlyList<string> flags) => this.flags = flags;

    private AzuriteProcess Process => process ?? throw new InvalidOperationException("Azurite is not started.");

    public int BlobPort => Process.BlobPort;
    public int QueuePort => Process.QueuePort;
    public int TablePort => Process.TablePort;

    public string ConnectionString => Process.ConnectionString;

    public QueueServiceClient Queues() =>
        new(ConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    /// <summary>A client that sees messages exactly as stored, to check their encoding.</summary>
    public QueueServiceClient RawQueues() => new(ConnectionString);

    public BlobServiceClient Blobs() => new(ConnectionString);

    public async Task InitializeAsync() =>
        process = await AzuriteProcess.StartAsync(RepositoryRoot.Combine("node_modules", ".bin", "azurite"), flags);

    /// <summary>Stops the emulator, as a storage outage would.</summary>
    public Task StopAsync() => process?.StopAsync() ?? Task.CompletedTask;

    public Task DisposeAsync() => StopAsync();

    async ValueTask IAsyncDisposable.DisposeAsync() => await StopAsync();
}
