using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace DeployFunctions.Tests.Support;

/// <summary>
/// A real Azurite (the repository's pinned npm package), started on free loopback ports with in-memory storage and
/// stopped with the tests. Each instance is private to its owner, so tests never see each other's messages.
/// </summary>
public sealed class Azurite : IAsyncLifetime, IAsyncDisposable
{
    private const string AccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>The tests' own flags (in-memory, quiet); a test of the run scripts passes theirs instead.</summary>
    private readonly IReadOnlyList<string> flags;
    private Process? process;

    public Azurite()
        : this(["--silent", "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry"])
    {
    }

    /// <summary>An Azurite started with <paramref name="flags"/>; hosts and ports are always added (free loopback ports).</summary>
    internal Azurite(IReadOnlyList<string> flags) => this.flags = flags;

    public int BlobPort { get; private set; }
    public int QueuePort { get; private set; }
    public int TablePort { get; private set; }

    public string ConnectionString =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
        $"AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/devstoreaccount1;" +
        $"QueueEndpoint=http://127.0.0.1:{QueuePort}/devstoreaccount1;" +
        $"TableEndpoint=http://127.0.0.1:{TablePort}/devstoreaccount1;";

    public QueueServiceClient Queues() =>
        new(ConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    /// <summary>A client that sees messages exactly as stored, to check their encoding.</summary>
    public QueueServiceClient RawQueues() => new(ConnectionString);

    public BlobServiceClient Blobs() => new(ConnectionString);

    public async Task InitializeAsync()
    {
        var executable = RepositoryRoot.Combine("node_modules", ".bin", "azurite");
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException($"{executable} is missing: run 'npm ci' at the repository root.");
        }

        for (var attempt = 0; ; attempt++)
        {
            (BlobPort, QueuePort, TablePort) = (FreePort(), FreePort(), FreePort());
            var start = new ProcessStartInfo(executable)
            {
                ArgumentList =
                {
                    "--blobHost", "127.0.0.1", "--blobPort", BlobPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--queueHost", "127.0.0.1", "--queuePort", QueuePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--tableHost", "127.0.0.1", "--tablePort", TablePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var flag in flags)
            {
                start.ArgumentList.Add(flag);
            }

            process = Process.Start(start) ?? throw new InvalidOperationException("Azurite did not start.");
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();

            if (await ListeningAsync(TimeSpan.FromSeconds(30)))
            {
                return;
            }

            await StopAsync();
            if (attempt == 2)
            {
                throw new InvalidOperationException("Azurite did not listen on its ports within 30 s (three tries).");
            }
        }
    }

    /// <summary>Stops the emulator, as a storage outage would.</summary>
    public async Task StopAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process?.Dispose();
        process = null;
    }

    public Task DisposeAsync() => StopAsync();

    async ValueTask IAsyncDisposable.DisposeAsync() => await StopAsync();

    private async Task<bool> ListeningAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && process is { HasExited: false })
        {
            if (await AcceptsAsync(BlobPort) && await AcceptsAsync(QueuePort) && await AcceptsAsync(TablePort))
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
