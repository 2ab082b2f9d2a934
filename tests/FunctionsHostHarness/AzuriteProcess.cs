using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FunctionsHostHarness;

/// <summary>
/// A real Azurite (the repository's pinned npm package) on free loopback ports, stopped with its owner. Each instance
/// is private to whoever started it, so tests and benchmarks never see each other's messages.
/// </summary>
public sealed class AzuriteProcess : IAsyncDisposable
{
    /// <summary>Azurite's well-known development account key (public, the same for every Azurite).</summary>
    public const string AccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>In memory, quiet, and accepting the storage SDK's newer API version.</summary>
    public static readonly IReadOnlyList<string> TestFlags = ["--silent", "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry"];

    private Process? process;

    private AzuriteProcess(Process process, int blobPort, int queuePort, int tablePort) =>
        (this.process, BlobPort, QueuePort, TablePort) = (process, blobPort, queuePort, tablePort);

    public int BlobPort { get; }
    public int QueuePort { get; }
    public int TablePort { get; }

    public string ConnectionString =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
        $"AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/devstoreaccount1;" +
        $"QueueEndpoint=http://127.0.0.1:{QueuePort}/devstoreaccount1;" +
        $"TableEndpoint=http://127.0.0.1:{TablePort}/devstoreaccount1;";

    /// <summary>Starts <paramref name="executable"/> with <paramref name="flags"/> (hosts and ports are added); three tries.</summary>
    public static async Task<AzuriteProcess> StartAsync(string executable, IReadOnlyList<string> flags)
    {
        ArgumentNullException.ThrowIfNull(flags);
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException($"{executable} is missing: run 'npm ci' at the repository root.");
        }

        for (var attempt = 0; ; attempt++)
        {
            var (blob, queue, table) = (FreePort(), FreePort(), FreePort());
            var start = new ProcessStartInfo(executable)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[] { "--blobHost", "127.0.0.1", "--blobPort", Text(blob), "--queueHost", "127.0.0.1",
                         "--queuePort", Text(queue), "--tableHost", "127.0.0.1", "--tablePort", Text(table) }.Concat(flags))
            {
                start.ArgumentList.Add(argument);
            }

            var process = Process.Start(start) ?? throw new InvalidOperationException("Azurite did not start.");
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var azurite = new AzuriteProcess(process, blob, queue, table);
            if (await azurite.ListeningAsync(TimeSpan.FromSeconds(30)))
            {
                return azurite;
            }

            await azurite.StopAsync();
            if (attempt == 2)
            {
                throw new InvalidOperationException("Azurite did not listen on its ports within 30 s (three tries).");
            }
        }
    }

    /// <summary>Stops the emulator (as a storage outage would).</summary>
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

    public async ValueTask DisposeAsync() => await StopAsync();

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

    private static string Text(int port) => port.ToString(CultureInfo.InvariantCulture);
}
