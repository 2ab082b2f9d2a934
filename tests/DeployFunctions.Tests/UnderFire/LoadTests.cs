using System.Diagnostics;
using System.Net.Http.Headers;
using Azure.Storage.Queues;
using DeployFunctions.Storage;
using DeployFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace DeployFunctions.Tests.UnderFire;

/// <summary>
/// 5,000 signed deliveries at concurrency 32 over HTTP into the ingress and a real Azurite: every one lands exactly
/// once. Prints throughput and latency (numbers for docs/benchmarks.md; nothing here asserts a speed).
/// </summary>
public sealed class LoadTests(Azurite azurite, ITestOutputHelper output) : IClassFixture<Azurite>
{
    private const int Deliveries = 5_000;
    private const int Concurrency = 32;

    [Fact]
    public async Task Five_thousand_deliveries_at_concurrency_32_land_exactly_once_each()
    {
        var prefix = "t" + Guid.NewGuid().ToString("N")[..10];
        await using var services = TestHost.Services(azurite.ConnectionString, settings =>
        {
            settings["PullRequestsQueue"] = prefix + "-pull-requests";
            settings["PayloadContainer"] = prefix + "-payloads";
        });
        await using var ingress = await IngressServer.StartAsync(() => services);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var payload = WebhookExamples.Bytes(WebhookExamples.DerivedMergedPullRequest());
        var signature = Support.Deliveries.Sign(payload);
        await services.GetRequiredService<QueueServiceClient>().GetQueueClient(prefix + "-pull-requests").CreateIfNotExistsAsync();

        var latencies = new double[Deliveries];
        var statuses = new int[Deliveries];
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < Deliveries)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, ingress.WebhookUrl);
                request.Content = new ByteArrayContent(payload);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Headers.Add("X-GitHub-Event", "pull_request");
                request.Headers.Add("X-GitHub-Delivery", $"load-{i}");
                request.Headers.Add("X-Hub-Signature-256", signature);
                var started = Stopwatch.GetTimestamp();
                using var response = await http.SendAsync(request);
                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                statuses[i] = (int)response.StatusCode;
            }
        }));
        clock.Stop();

        Assert.All(statuses, status => Assert.Equal(202, status));
        var delivered = await DrainAsync(services, prefix + "-pull-requests");
        Assert.Equal(Deliveries, delivered.Count);
        Assert.Equal(Enumerable.Range(0, Deliveries).Select(i => $"load-{i}").Order(), delivered.Order());

        Array.Sort(latencies);
        output.WriteLine(
            $"load: {Deliveries} deliveries ({payload.Length} bytes each), concurrency {Concurrency}: " +
            $"{Deliveries / clock.Elapsed.TotalSeconds:F0} deliveries/s, p50 {latencies[Deliveries / 2]:F1} ms, " +
            $"p99 {latencies[Deliveries * 99 / 100]:F1} ms, max {latencies[^1]:F1} ms; {delivered.Count} messages, none lost, none duplicated");
    }

    private static async Task<List<string>> DrainAsync(IServiceProvider services, string queueName)
    {
        var queue = services.GetRequiredService<QueueServiceClient>().GetQueueClient(queueName);
        var reader = services.GetRequiredService<DeliveryReader>();
        var ids = new List<string>();
        while (true)
        {
            var batch = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(5))).Value;
            if (batch.Length == 0)
            {
                return ids;
            }

            foreach (var message in batch)
            {
                ids.Add((await reader.ReadAsync(message.Body, default)).Envelope.DeliveryId);
            }
        }
    }
}
