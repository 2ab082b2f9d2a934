using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;

namespace DeployFunctions.Tests.Support;

/// <summary>
/// A storage blip on demand: while <see cref="FailWhile"/> matches a request, the real Azurite never sees it and the
/// client gets a 503 (as an overloaded or unreachable account answers). Clients built with it do not retry, so the
/// code under test meets every fault itself.
/// </summary>
internal sealed class StorageFaults : HttpPipelinePolicy
{
    public Func<HttpMessage, bool> FailWhile { get; set; } = _ => false;

    /// <summary>What a failed request throws; by default the 503 of a busy account.</summary>
    public Func<Exception> Fault { get; set; } = () => new RequestFailedException(503, "Injected storage fault: the server is busy.", "ServerBusy", null);

    public int Failed { get; private set; }

    /// <summary>How long a faulted request hangs before it fails (a storage call that does not answer); zero: it fails at once.</summary>
    public TimeSpan Hang { get; set; }

    public BlobServiceClient Blobs(Azurite azurite)
    {
        var options = new BlobClientOptions();
        options.Retry.MaxRetries = 0;
        options.AddPolicy(this, HttpPipelinePosition.PerRetry);
        return new BlobServiceClient(azurite.ConnectionString, options);
    }

    /// <summary>Lease renewals: <c>PUT ...?comp=lease</c> with <c>x-ms-lease-action: renew</c>.</summary>
    public static bool IsRenewal(HttpMessage message) =>
        message.Request.Headers.TryGetValue("x-ms-lease-action", out var action) && action == "renew";

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The storage clients under test are asynchronous.");

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        if (FailWhile(message))
        {
            Failed++;
            if (Hang > TimeSpan.Zero)
            {
                await Task.Delay(Hang, message.CancellationToken);
            }

            throw Fault();
        }

        await ProcessNextAsync(message, pipeline);
    }
}
