using Azure.Storage.Queues.Models;
using DeployFunctions.Functions;
using DeployFunctions.Queues;
using DeployFunctions.Storage;
using DeployFunctions.Tests.Support;
using DeployFunctions.Webhooks;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using NSubstitute;

namespace DeployFunctions.Tests.Integration;

/// <summary>
/// Claim-checked payloads on real Azurite: a blob lives exactly as long as the one message that references it, and a
/// payload that is gone anyway is handled by the worker (error log, poison with the reason, error status), never lost
/// silently.
/// </summary>
public sealed class PayloadLifetimeTests(Azurite azurite) : IClassFixture<Azurite>, IAsyncDisposable
{
    private readonly string prefix = "t" + Guid.NewGuid().ToString("N")[..10];
    private readonly IDeliveryHandler handler = Substitute.For<IDeliveryHandler>();
    private ServiceProvider? provider;

    private string Queue => prefix + "-pull-requests";
    private string Container => prefix + "-payloads";

    private ServiceProvider Services => provider ??= TestHost.Services(azurite.ConnectionString, settings =>
    {
        settings["PullRequestsQueue"] = Queue;
        settings["DeploymentsQueue"] = prefix + "-deployments";
        settings["DeploymentStatusesQueue"] = prefix + "-deployment-statuses";
        settings["PayloadContainer"] = Container;
        settings["Retry:BaseDelaySeconds"] = "0.1";
    });

    public async ValueTask DisposeAsync()
    {
        if (provider is not null)
        {
            await provider.DisposeAsync();
        }
    }

    private static byte[] BigMerge()
    {
        var merged = WebhookExamples.DerivedMergedPullRequest();
        merged["pull_request"]!["body"] = new string('x', 80_000);
        return WebhookExamples.Bytes(merged);
    }

    private async Task DeliverAsync(byte[] payload, string deliveryId)
    {
        var request = Deliveries.Request("pull_request", payload, deliveryId: deliveryId);
        var result = await Services.GetRequiredService<WebhookIngressFunction>().Run(request, CancellationToken.None);
        await result.ExecuteResultAsync(new ActionContext(request.HttpContext, new RouteData(), new()));
        Assert.Equal(202, request.HttpContext.Response.StatusCode);
    }

    private async Task<QueueMessage[]> ReceiveAsync(string queue, int count) =>
        (await azurite.Queues().GetQueueClient(queue).ReceiveMessagesAsync(count, TimeSpan.FromSeconds(30))).Value;

    private async Task<List<string>> BlobsAsync()
    {
        var names = new List<string>();
        var container = azurite.Blobs().GetBlobContainerClient(Container);
        if (await container.ExistsAsync())
        {
            await foreach (var blob in container.GetBlobsAsync())
            {
                names.Add($"{Container}/{blob.Name}");
            }
        }

        return names;
    }

    private Task<HandlerOutcome> ProcessAsync(QueueMessage message) =>
        Services.GetRequiredService<DeliveryWorker>().ProcessAsync(handler, message.Body, message.DequeueCount, default);

    [Fact]
    public async Task A_redelivery_of_the_same_delivery_gets_a_payload_blob_of_its_own()
    {
        await DeliverAsync(BigMerge(), "same-delivery");
        await DeliverAsync(BigMerge(), "same-delivery");

        var references = (await ReceiveAsync(Queue, 2)).Select(m => DeliveryReader.Envelope(m.Body).PayloadBlob).ToList();

        Assert.Equal(2, references.Distinct().Count());
        Assert.Equal(references.Order(), (await BlobsAsync()).Order());
    }

    [Fact]
    public async Task A_completed_message_deletes_its_payload_and_leaves_its_redelivery_readable()
    {
        await DeliverAsync(BigMerge(), "same-delivery");
        await DeliverAsync(BigMerge(), "same-delivery");
        var messages = await ReceiveAsync(Queue, 2);
        handler.HandleAsync(default!, default).ReturnsForAnyArgs(new HandlerOutcome.Completed("done"));

        await ProcessAsync(messages[0]);

        var left = Assert.Single(await BlobsAsync());
        Assert.Equal(DeliveryReader.Envelope(messages[1].Body).PayloadBlob, left);
        Assert.IsType<HandlerOutcome.Completed>(await ProcessAsync(messages[1]));
        Assert.Empty(await BlobsAsync());
    }

    [Fact]
    public async Task A_retried_message_carries_a_fresh_payload_blob_and_the_old_one_goes_with_the_old_message()
    {
        await DeliverAsync(BigMerge(), "d-1");
        var first = Assert.Single(await ReceiveAsync(Queue, 1));
        handler.Queue.Returns(DeliveryQueueKind.PullRequests);
        handler.HandleAsync(default!, default).ReturnsForAnyArgs(
            new HandlerOutcome.RetryLater(TimeSpan.Zero, "checks pending", IsFault: false),
            new HandlerOutcome.Completed("done"));

        await ProcessAsync(first);

        var retried = Assert.Single(await ReceiveAsync(Queue, 1));
        var blob = Assert.Single(await BlobsAsync());
        Assert.Equal(DeliveryReader.Envelope(retried.Body).PayloadBlob, blob);
        Assert.NotEqual(DeliveryReader.Envelope(first.Body).PayloadBlob, blob);
        Assert.IsType<HandlerOutcome.Completed>(await ProcessAsync(retried));
        Assert.Empty(await BlobsAsync());
    }

    [Fact]
    public async Task A_message_whose_payload_is_gone_is_poisoned_with_the_reason_and_its_deployment_is_told()
    {
        await DeliverAsync(BigMerge(), "d-1");
        var message = Assert.Single(await ReceiveAsync(Queue, 1));
        var reference = DeliveryReader.Envelope(message.Body).PayloadBlob!;
        await azurite.Blobs().GetBlobContainerClient(Container).DeleteBlobAsync(reference[(Container.Length + 1)..]);
        handler.Queue.Returns(DeliveryQueueKind.PullRequests);

        var outcome = await ProcessAsync(message);

        Assert.Contains("does not exist", Assert.IsType<HandlerOutcome.Failed>(outcome).Reason, StringComparison.Ordinal);
        await handler.DidNotReceiveWithAnyArgs().HandleAsync(default!, default);
        await handler.Received(1).OnGiveUpAsync(Arg.Any<QueuedDelivery>(), Arg.Is<string>(r => r.Contains(reference)), Arg.Any<CancellationToken>());
        var poisoned = Assert.Single(await ReceiveAsync(Queue + "-poison", 1));
        Assert.Equal(reference, DeliveryReader.Envelope(poisoned.Body).PayloadBlob);
    }

    [Fact]
    public async Task A_poisoned_message_keeps_a_payload_that_can_be_replayed()
    {
        await DeliverAsync(BigMerge(), "d-1");
        var message = Assert.Single(await ReceiveAsync(Queue, 1));
        handler.Queue.Returns(DeliveryQueueKind.PullRequests);
        handler.HandleAsync(default!, default).ReturnsForAnyArgs(new HandlerOutcome.Failed("GitHub answered 404"));

        await ProcessAsync(message);

        var poisoned = Assert.Single(await ReceiveAsync(Queue + "-poison", 1));
        var replay = await Services.GetRequiredService<DeliveryReader>().ReadAsync(poisoned.Body, default);
        Assert.Equal(BigMerge(), replay.Payload.ToArray());
    }
}
