using System.Net;
using Azure.Storage.Blobs;
using DeployFunctions.GitHub;
using DeployFunctions.Queues;
using DeployFunctions.Storage;
using DeployFunctions.Webhooks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using NSubstitute.ExceptionExtensions;
using Octokit;

namespace DeployFunctions.Tests.Deployments;

public sealed class DeliveryWorkerTests
{
    private readonly IDeliveryHandler handler = Substitute.For<IDeliveryHandler>();
    private readonly IDeliveryRetries retries = Substitute.For<IDeliveryRetries>();
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero));
    private readonly DeliveryRetryOptions options = new() { MaxAttempts = 3, BaseDelaySeconds = 10, MaxDelaySeconds = 100 };

    public DeliveryWorkerTests()
    {
        handler.Queue.Returns(DeliveryQueueKind.PullRequests);
        handler.CallsGitHub.Returns(true);
    }

    private readonly GitHubRateGate gate = new(TimeProvider.System);
    private readonly PayloadBlobs payloads = new(Substitute.For<BlobServiceClient>(), Options.Create(new StorageNamesOptions()));

    private DeliveryWorker Worker() => new(
        new DeliveryReader(payloads), retries, payloads, gate, Options.Create(options), clock, NullLogger<DeliveryWorker>.Instance);

    private static BinaryData Message(int attempt = 0, long? installationId = null) => BinaryData.FromBytes(new WebhookEnvelope
    {
        DeliveryId = "d-1",
        Event = "pull_request",
        Action = "closed",
        ReceivedAt = new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero),
        Repository = "octo/app",
        InstallationId = installationId,
        Attempt = attempt,
    }.Serialize("{\"action\":\"closed\"}"u8));

    private void Returns(HandlerOutcome outcome) =>
        handler.HandleAsync(default!, default).ReturnsForAnyArgs(outcome);

    [Fact]
    public async Task Completed_and_skipped_deliveries_are_neither_retried_nor_poisoned()
    {
        Returns(new HandlerOutcome.Completed("done"));
        await Worker().ProcessAsync(handler, Message(), 1, default);
        Returns(new HandlerOutcome.Skipped("not ours"));
        await Worker().ProcessAsync(handler, Message(), 1, default);

        Assert.Empty(retries.ReceivedCalls());
        await handler.DidNotReceiveWithAnyArgs().OnGiveUpAsync(default!, default!, default);
    }

    [Fact]
    public async Task A_wait_is_rescheduled_with_its_delay_without_using_an_attempt()
    {
        Returns(new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(60), "checks pending", IsFault: false));

        await Worker().ProcessAsync(handler, Message(attempt: 2), 1, default);

        await retries.Received(1).RescheduleAsync(DeliveryQueueKind.PullRequests, Arg.Any<QueuedDelivery>(), TimeSpan.FromSeconds(60), 2, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_fault_is_rescheduled_and_counted()
    {
        Returns(new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(5), "202", IsFault: true));

        await Worker().ProcessAsync(handler, Message(attempt: 1), 1, default);

        await retries.Received(1).RescheduleAsync(DeliveryQueueKind.PullRequests, Arg.Any<QueuedDelivery>(), TimeSpan.FromSeconds(5), 2, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_fault_past_max_attempts_gives_up_into_poison()
    {
        Returns(new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(5), "still 500", IsFault: true));

        await Worker().ProcessAsync(handler, Message(attempt: 3), 1, default);

        await retries.DidNotReceiveWithAnyArgs().RescheduleAsync(default, default!, default, default, default);
        await retries.Received(1).PoisonAsync(DeliveryQueueKind.PullRequests, Arg.Any<QueuedDelivery>(), Arg.Any<CancellationToken>(), Arg.Any<string?>());
        await handler.Received(1).OnGiveUpAsync(Arg.Any<QueuedDelivery>(), Arg.Is<string>(r => r.Contains("still 500")), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task GitHub_server_error_backs_off_exponentially_by_attempt()
    {
        handler.HandleAsync(default!, default).ThrowsAsyncForAnyArgs(new ApiException("Server Error", HttpStatusCode.BadGateway));

        await Worker().ProcessAsync(handler, Message(attempt: 2), 1, default);

        // Third retry: 10 s * 2^2.
        await retries.Received(1).RescheduleAsync(DeliveryQueueKind.PullRequests, Arg.Any<QueuedDelivery>(), TimeSpan.FromSeconds(40), 3, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_rate_limit_on_the_last_attempt_waits_and_never_uses_an_attempt()
    {
        handler.CallsGitHub.Returns(true);
        handler.HandleAsync(default!, default).ThrowsAsyncForAnyArgs(new GitHubRateLimitedException(TimeSpan.FromSeconds(30), "held back"));

        await Worker().ProcessAsync(handler, Message(attempt: 3), 1, default);

        await retries.Received(1).RescheduleAsync(DeliveryQueueKind.PullRequests, Arg.Any<QueuedDelivery>(), TimeSpan.FromSeconds(30), 3, Arg.Any<CancellationToken>());
        await retries.DidNotReceiveWithAnyArgs().PoisonAsync(default, default!, default, default);
    }

    [Fact]
    public async Task GitHub_permanent_failure_goes_to_poison_at_once()
    {
        handler.HandleAsync(default!, default).ThrowsAsyncForAnyArgs(new NotFoundException("Not Found", HttpStatusCode.NotFound));

        var outcome = await Worker().ProcessAsync(handler, Message(), 1, default);

        Assert.IsType<HandlerOutcome.Failed>(outcome);
        await retries.Received(1).PoisonAsync(DeliveryQueueKind.PullRequests, Arg.Any<QueuedDelivery>(), Arg.Any<CancellationToken>(), Arg.Any<string?>());
        await retries.DidNotReceiveWithAnyArgs().RescheduleAsync(default, default!, default, default, default);
    }

    [Fact]
    public async Task Unexpected_exception_is_left_to_the_host_to_retry()
    {
        handler.HandleAsync(default!, default).ThrowsAsyncForAnyArgs(new InvalidOperationException("storage hiccup"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => Worker().ProcessAsync(handler, Message(), 1, default));

        await handler.DidNotReceiveWithAnyArgs().OnGiveUpAsync(default!, default!, default);
    }

    [Fact]
    public async Task Unexpected_exception_on_the_hosts_last_attempt_gives_up_then_rethrows_for_poison()
    {
        handler.HandleAsync(default!, default).ThrowsAsyncForAnyArgs(new InvalidOperationException("storage hiccup"));

        await Assert.ThrowsAsync<InvalidOperationException>(
            () => Worker().ProcessAsync(handler, Message(), DeliveryWorker.HostMaxDequeueCount, default));

        await handler.Received(1).OnGiveUpAsync(Arg.Any<QueuedDelivery>(), Arg.Any<string>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task After_a_rate_limit_other_deliveries_wait_without_calling_GitHub()
    {
        var response = Substitute.For<IResponse>();
        response.StatusCode.Returns((HttpStatusCode)429);
        response.Body.Returns("""{"message":"API rate limit exceeded"}""");
        response.Headers.Returns(new Dictionary<string, string> { ["Retry-After"] = "120" });
        var tooManyRequests = new ApiException(response); // built first: it reads the substitute response
        handler.HandleAsync(default!, default).ThrowsAsyncForAnyArgs(tooManyRequests);
        await Worker().ProcessAsync(handler, Message(), 1, default);
        handler.ClearReceivedCalls();
        retries.ClearReceivedCalls();
        clock.Advance(TimeSpan.FromSeconds(20));

        var outcome = await Worker().ProcessAsync(handler, Message(), 1, default);

        await handler.DidNotReceiveWithAnyArgs().HandleAsync(default!, default);
        Assert.False(Assert.IsType<HandlerOutcome.RetryLater>(outcome).IsFault);
        await retries.Received(1).RescheduleAsync(DeliveryQueueKind.PullRequests, Arg.Any<QueuedDelivery>(), TimeSpan.FromSeconds(100), 0, Arg.Any<CancellationToken>());

        clock.Advance(TimeSpan.FromSeconds(101));
        handler.HandleAsync(default!, default).ReturnsForAnyArgs(new HandlerOutcome.Completed("done"));
        Assert.IsType<HandlerOutcome.Completed>(await Worker().ProcessAsync(handler, Message(), 1, default));
    }

    [Fact]
    public async Task A_server_error_that_says_retry_after_is_retried_no_sooner_than_it_asks()
    {
        var response = Substitute.For<IResponse>();
        response.StatusCode.Returns(HttpStatusCode.ServiceUnavailable);
        response.Body.Returns("""{"message":"Service Unavailable"}""");
        response.Headers.Returns(new Dictionary<string, string> { ["Retry-After"] = "300" });
        var unavailable = new ApiException(response);
        handler.HandleAsync(default!, default).ThrowsAsyncForAnyArgs(unavailable);

        await Worker().ProcessAsync(handler, Message(attempt: 0), 1, default);

        // Not the 10 s of the first back-off: GitHub asked for 300.
        await retries.Received(1).RescheduleAsync(DeliveryQueueKind.PullRequests, Arg.Any<QueuedDelivery>(), TimeSpan.FromSeconds(300), 1, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_rate_limit_holds_back_only_the_installation_that_was_limited()
    {
        gate.Block(1001, clock.GetUtcNow().AddMinutes(5));
        Returns(new HandlerOutcome.Completed("done"));

        var limited = await Worker().ProcessAsync(handler, Message(installationId: 1001), 1, default);
        var other = await Worker().ProcessAsync(handler, Message(installationId: 2002), 1, default);
        var token = await Worker().ProcessAsync(handler, Message(), 1, default);

        Assert.IsType<HandlerOutcome.RetryLater>(limited);
        Assert.IsType<HandlerOutcome.Completed>(other);
        Assert.IsType<HandlerOutcome.Completed>(token);
        await handler.ReceivedWithAnyArgs(2).HandleAsync(default!, default);
    }

    [Fact]
    public async Task Handlers_that_do_not_call_GitHub_ignore_the_rate_limit()
    {
        gate.Block(null, clock.GetUtcNow().AddMinutes(5));
        handler.CallsGitHub.Returns(false);
        Returns(new HandlerOutcome.Completed("recorded"));

        Assert.IsType<HandlerOutcome.Completed>(await Worker().ProcessAsync(handler, Message(), 1, default));
    }

    [Fact]
    public void Host_json_max_dequeue_count_matches_the_worker()
    {
        var host = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Support.RepositoryRoot.Combine("host.json")))!;

        Assert.Equal(DeliveryWorker.HostMaxDequeueCount, (int)host["extensions"]!["queues"]!["maxDequeueCount"]!);
    }
}
