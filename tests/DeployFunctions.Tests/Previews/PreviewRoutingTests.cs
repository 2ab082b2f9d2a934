using Azure;
using DeployFunctions.Storage;
using DeployFunctions.Tests.Support;
using DeployFunctions.Webhooks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using NSubstitute.ExceptionExtensions;

namespace DeployFunctions.Tests.Previews;

/// <summary>The ingress with previews on (<c>Previews__Enabled</c>), on GitHub's real pull_request payloads, with the queue substituted.</summary>
public sealed class PreviewRoutingTests
{
    private readonly IDeliveryQueues queues = Substitute.For<IDeliveryQueues>();

    public PreviewRoutingTests() =>
        queues.EnqueueAsync(default, default!, default, default)
            .ReturnsForAnyArgs(call => Task.FromResult("queue-of-" + call.Arg<DeliveryQueueKind>()));

    private Task<IngressAnswer> SendAsync(string action, bool previews = true, bool merged = false)
    {
        var payload = action == "closed" && merged ? WebhookExamples.DerivedMergedPullRequest() : WebhookExamples.Get("pull_request", action);
        var options = Deliveries.Options();
        var intake = new DeliveryIntake(new WebhookSignature(options), new FakeTimeProvider(), new CommandRouting(".", Previews: previews));
        return new WebhookIngress(intake, queues, options, NullLogger<WebhookIngress>.Instance)
            .HandleAsync(Deliveries.Request("pull_request", WebhookExamples.Bytes(payload)), CancellationToken.None);
    }

    [Theory]
    [InlineData("opened")]
    [InlineData("reopened")]
    [InlineData("synchronize")]
    [InlineData("closed")]
    public async Task Opened_reopened_pushed_and_closed_pull_requests_go_to_the_previews_queue(string action)
    {
        var answer = await SendAsync(action);

        Assert.Equal(202, answer.StatusCode);
        Assert.Equal("queue-of-Previews", answer.Queue);
        await queues.Received(1).EnqueueAsync(DeliveryQueueKind.Previews, Arg.Is<WebhookEnvelope>(e => e.Action == action),
            Arg.Any<ReadOnlyMemory<byte>>(), Arg.Any<CancellationToken>());
        await queues.DidNotReceive().EnqueueAsync(DeliveryQueueKind.PullRequests, Arg.Any<WebhookEnvelope>(), Arg.Any<ReadOnlyMemory<byte>>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_merged_pull_request_goes_to_both_queues_it_deploys_and_its_preview_goes()
    {
        var answer = await SendAsync("closed", merged: true);

        Assert.Equal(202, answer.StatusCode);
        Assert.Equal("queue-of-PullRequests, queue-of-Previews", answer.Queue);
        await queues.Received(1).EnqueueAsync(DeliveryQueueKind.PullRequests, Arg.Any<WebhookEnvelope>(), Arg.Any<ReadOnlyMemory<byte>>(), Arg.Any<CancellationToken>());
        await queues.Received(1).EnqueueAsync(DeliveryQueueKind.Previews, Arg.Any<WebhookEnvelope>(), Arg.Any<ReadOnlyMemory<byte>>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task When_the_second_queue_refuses_the_answer_is_503_so_the_whole_delivery_is_redelivered()
    {
        queues.EnqueueAsync(DeliveryQueueKind.Previews, Arg.Any<WebhookEnvelope>(), Arg.Any<ReadOnlyMemory<byte>>(), Arg.Any<CancellationToken>())
            .ThrowsAsync(new RequestFailedException(500, "The server is busy.", "ServerBusy", null));

        var answer = await SendAsync("closed", merged: true);

        Assert.Equal(503, answer.StatusCode);
    }

    [Theory]
    [InlineData("labeled")]
    [InlineData("assigned")]
    public async Task Other_actions_are_ignored_with_the_reason(string action)
    {
        var answer = await SendAsync(action);

        Assert.Equal(200, answer.StatusCode);
        Assert.StartsWith($"pull_request action '{action}' is not handled (only opened, reopened, synchronize and closed are)", answer.Reason, StringComparison.Ordinal);
        _ = queues.DidNotReceiveWithAnyArgs().EnqueueAsync(default, default!, default, default);
    }

    [Theory]
    [InlineData("opened")]
    [InlineData("synchronize")]
    public async Task With_previews_off_nothing_but_merges_is_queued(string action)
    {
        var answer = await SendAsync(action, previews: false);

        Assert.Equal(200, answer.StatusCode);
        _ = queues.DidNotReceiveWithAnyArgs().EnqueueAsync(default, default!, default, default);
    }
}
