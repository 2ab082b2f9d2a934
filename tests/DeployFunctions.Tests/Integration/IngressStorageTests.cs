using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using DeployFunctions.Functions;
using DeployFunctions.Storage;
using DeployFunctions.Tests.Support;
using DeployFunctions.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace DeployFunctions.Tests.Integration;

/// <summary>
/// The ingress function, composed as Program composes it, against a real Azurite. Each test has queues and a
/// container of its own, so tests cannot see each other's messages.
/// </summary>
public sealed class IngressStorageTests(Azurite azurite) : IClassFixture<Azurite>, IDisposable
{
    private readonly string prefix = "t" + Guid.NewGuid().ToString("N")[..10];
    private ServiceProvider? provider;

    private string PullRequests => prefix + "-pull-requests";
    private string Deployments => prefix + "-deployments";
    private string DeploymentStatuses => prefix + "-deployment-statuses";

    private ServiceProvider Services => provider ??= TestHost.Services(azurite.ConnectionString, Names);

    public void Dispose() => provider?.Dispose();

    private void Names(Dictionary<string, string?> settings)
    {
        settings["PullRequestsQueue"] = PullRequests;
        settings["DeploymentsQueue"] = Deployments;
        settings["DeploymentStatusesQueue"] = DeploymentStatuses;
        settings["PayloadContainer"] = prefix + "-payloads";
    }

    private Task<(int Status, JsonNode Body)> PostAsync(HttpRequest request) => PostAsync(Services, request);

    private static async Task<(int Status, JsonNode Body)> PostAsync(IServiceProvider services, HttpRequest request)
    {
        var function = services.GetRequiredService<WebhookIngressFunction>();
        var result = await function.Run(request, CancellationToken.None);
        await result.ExecuteResultAsync(new ActionContext(request.HttpContext, new RouteData(), new()));
        var response = request.HttpContext.Response;
        response.Body.Position = 0;
        return (response.StatusCode, JsonNode.Parse(response.Body)!);
    }

    [Fact]
    public async Task Merged_pull_request_lands_base64_encoded_on_the_pull_request_queue_and_reads_back_as_the_envelope()
    {
        var payload = WebhookExamples.Bytes(WebhookExamples.DerivedMergedPullRequest());

        var (status, body) = await PostAsync(Deliveries.Request("pull_request", payload, deliveryId: "delivery-1"));

        Assert.Equal(202, status);
        Assert.Equal(PullRequests, (string?)body["queue"]);
        var raw = await azurite.RawQueues().GetQueueClient(PullRequests).ReceiveMessageAsync();
        // The queue trigger decodes base64 (host.json messageEncoding); the stored text must be base64.
        var decoded = Convert.FromBase64String(raw.Value.Body.ToString());
        var delivery = await Services.GetRequiredService<DeliveryReader>().ReadAsync(BinaryData.FromBytes(decoded), default);
        Assert.Equal("delivery-1", delivery.Envelope.DeliveryId);
        Assert.Equal("pull_request", delivery.Envelope.Event);
        Assert.Equal("closed", delivery.Envelope.Action);
        Assert.Equal("Codertocat/Hello-World", delivery.Envelope.Repository);
        Assert.Null(delivery.Envelope.PayloadBlob);
        Assert.Equal(payload, delivery.Payload.ToArray());
    }

    [Theory]
    [InlineData("deployment", "-deployments")]
    [InlineData("deployment_status", "-deployment-statuses")]
    public async Task Deployment_events_land_on_their_own_queue_only(string eventName, string queueSuffix)
    {
        var queue = prefix + queueSuffix;
        var payload = WebhookExamples.Bytes(WebhookExamples.Get(eventName, "created"));

        var (status, _) = await PostAsync(Deliveries.Request(eventName, payload));

        Assert.Equal(202, status);
        var queues = azurite.Queues();
        foreach (var name in new[] { PullRequests, Deployments, DeploymentStatuses })
        {
            var count = await CountAsync(queues.GetQueueClient(name));
            Assert.Equal(name == queue ? 1 : 0, count);
        }
    }

    [Fact]
    public async Task Pull_request_too_large_for_a_message_travels_by_claim_check_and_reads_back_byte_identical()
    {
        var merged = WebhookExamples.DerivedMergedPullRequest();
        // A long pull request description, as real ones get, takes the payload past the 64 KiB message limit.
        merged["pull_request"]!["body"] = string.Concat(Enumerable.Repeat("Release notes: naïve café ✓ line\r\n", 3000));
        var payload = WebhookExamples.Bytes(merged);
        Assert.True(payload.Length > 64 * 1024);

        var (status, _) = await PostAsync(Deliveries.Request("pull_request", payload, deliveryId: "big-delivery"));

        Assert.Equal(202, status);
        var message = await azurite.Queues().GetQueueClient(PullRequests).ReceiveMessageAsync();
        Assert.True(message.Value.Body.ToArray().Length < WebhookEnvelope.MaxInlineBytes);
        var delivery = await Services.GetRequiredService<DeliveryReader>().ReadAsync(message.Value.Body, default);
        Assert.StartsWith(prefix + "-payloads/", delivery.Envelope.PayloadBlob, StringComparison.Ordinal);
        Assert.DoesNotContain("big-delivery", delivery.Envelope.PayloadBlob, StringComparison.Ordinal);
        Assert.Equal(payload, delivery.Payload.ToArray());
    }

    [Fact]
    public async Task Form_encoded_claim_check_stores_the_decoded_json()
    {
        var merged = WebhookExamples.DerivedMergedPullRequest();
        merged["pull_request"]!["body"] = new string('z', 70_000);
        var json = WebhookExamples.Bytes(merged);

        var (status, _) = await PostAsync(Deliveries.Request("pull_request", Deliveries.Form(json),
            contentType: "application/x-www-form-urlencoded"));

        Assert.Equal(202, status);
        var message = await azurite.Queues().GetQueueClient(PullRequests).ReceiveMessageAsync();
        var delivery = await Services.GetRequiredService<DeliveryReader>().ReadAsync(message.Value.Body, default);
        Assert.Equal(json, delivery.Payload.ToArray());
    }

    [Fact]
    public async Task Rejected_and_ignored_deliveries_leave_every_queue_empty()
    {
        var merged = WebhookExamples.Bytes(WebhookExamples.DerivedMergedPullRequest());
        await PostAsync(Deliveries.Request("pull_request", merged, signature: Deliveries.Sign(merged, "wrong")));
        await PostAsync(Deliveries.Request("pull_request", WebhookExamples.Bytes(WebhookExamples.Get("pull_request", "opened"))));
        await PostAsync(Deliveries.Request("ping", WebhookExamples.Bytes(WebhookExamples.Get("ping"))));

        var queues = azurite.Queues();
        foreach (var name in new[] { PullRequests, Deployments, DeploymentStatuses })
        {
            Assert.Equal(0, await CountAsync(queues.GetQueueClient(name)));
        }
    }

    [Fact]
    public async Task Storage_stopped_is_503_and_nothing_is_queued()
    {
        await using var storage = new Azurite();
        await storage.InitializeAsync();
        await using var services = TestHost.Services(storage.ConnectionString);
        var payload = WebhookExamples.Bytes(WebhookExamples.DerivedMergedPullRequest());
        // The queue exists and works first, so the outage is the only thing that changes.
        Assert.Equal(202, (await PostAsync(services, Deliveries.Request("pull_request", payload))).Status);
        await storage.StopAsync();

        var (status, body) = await PostAsync(services, Deliveries.Request("pull_request", payload));

        Assert.Equal(503, status);
        Assert.Equal("unavailable", (string?)body["status"]);
        Assert.Contains("Redeliver", (string?)body["reason"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Storage_that_accepts_connections_but_never_answers_gets_503_within_the_storage_budget()
    {
        // A listener that takes the connection and says nothing: the slowest way storage can fail.
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        var held = new List<System.Net.Sockets.TcpClient>();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                held.Add(await silent.AcceptTcpClientAsync());
            }
        });
        var storage = azurite.ConnectionString
            .Replace($"QueueEndpoint=http://127.0.0.1:{azurite.QueuePort}", $"QueueEndpoint=http://127.0.0.1:{port}", StringComparison.Ordinal);
        await using var services = TestHost.Services(storage, settings => settings["Webhook:StorageTimeoutSeconds"] = "1");
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var (status, body) = await PostAsync(services, Deliveries.Request("pull_request", WebhookExamples.Bytes(WebhookExamples.DerivedMergedPullRequest())));

        Assert.Equal(503, status);
        Assert.Equal("unavailable", (string?)body["status"]);
        // Within GitHub's 10 s, whatever storage does (the budget is 1 s here; the margin is for a loaded machine).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"answered after {clock.Elapsed}");
    }

    private static async Task<int> CountAsync(QueueClient queue)
    {
        if (!await queue.ExistsAsync())
        {
            return 0;
        }

        var properties = await queue.GetPropertiesAsync();
        return properties.Value.ApproximateMessagesCount;
    }
}
