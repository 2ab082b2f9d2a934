using System.Text.Json.Nodes;
using DeployFunctions.Deployments;
using DeployFunctions.GitHub;
using DeployFunctions.Storage;
using DeployFunctions.Tests.Support;
using DeployFunctions.Webhooks;
using Microsoft.Extensions.Options;
using NSubstitute;
using NSubstitute.ExceptionExtensions;
using Octokit;

namespace DeployFunctions.Tests.Deployments;

/// <summary>The runner's state transitions, with GitHub, the lock and the provider substituted.</summary>
public sealed class DeploymentRunnerTests
{
    private readonly IGitHubClientFactory clients = Substitute.For<IGitHubClientFactory>();
    private readonly IGitHubClient github = Substitute.For<IGitHubClient>();
    private readonly ILeaseLocks locks = Substitute.For<ILeaseLocks>();
    private readonly ILeaseLock held = Substitute.For<ILeaseLock>();
    private readonly IDeploymentProvider provider = Substitute.For<IDeploymentProvider>();
    private readonly EnvironmentsOptions environments = new();
    private IDeploymentStatusClient Statuses => github.Repository.Deployment.Status;

    public DeploymentRunnerTests()
    {
        clients.CreateAsync(default, default).ReturnsForAnyArgs(github);
        locks.TryAcquireAsync(default!, default).ReturnsForAnyArgs(held);
        held.Record.Returns(new Dictionary<string, string>());
        provider.Kind.Returns(ProviderKinds.Simulated);
        Statuses.GetAll("Codertocat", "Hello-World", 145988746).Returns([]);
    }

    private DeploymentRunner Runner() => new(clients, locks, [provider],
        Options.Create(new DeployOptions()), Options.Create(environments));

    /// <summary>GitHub's real deployment example; with <paramref name="ours"/>, DERIVED to carry this app's marker.</summary>
    private static QueuedDelivery Delivery(bool ours = true)
    {
        var payload = WebhookExamples.Get("deployment", "created");
        if (ours)
        {
            payload["deployment"]!["payload"] = new JsonObject { ["created_by"] = "deployfunctions", ["base_branch"] = "master" };
        }

        return new QueuedDelivery(new WebhookEnvelope
        {
            DeliveryId = "d-1", Event = "deployment", Action = "created", ReceivedAt = DateTimeOffset.UtcNow, Repository = "Codertocat/Hello-World",
        }, WebhookExamples.Bytes(payload));
    }

    private static DeploymentStatus Status(DeploymentState state) =>
        new(1, "", "", state, null, null, "", "", "", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, "");

    [Fact]
    public async Task Deployment_not_ours_for_an_environment_without_provider_is_skipped_without_calling_GitHub()
    {
        var outcome = await Runner().HandleAsync(Delivery(ours: false), default);

        Assert.Contains("not created by DeployFunctions", Assert.IsType<HandlerOutcome.Skipped>(outcome).Reason, StringComparison.Ordinal);
        await clients.DidNotReceiveWithAnyArgs().CreateAsync(default, default);
    }

    [Fact]
    public async Task Deployment_not_ours_runs_when_its_environment_has_a_provider()
    {
        environments.Environments["production"] = new EnvironmentOptions { Provider = ProviderKinds.Simulated };
        provider.DeployAsync(default!, default).ReturnsForAnyArgs(new ProviderResult.Succeeded(null, null, "ok"));

        Assert.IsType<HandlerOutcome.Completed>(await Runner().HandleAsync(Delivery(ours: false), default));
        await provider.ReceivedWithAnyArgs(1).DeployAsync(default!, default);
    }

    [Fact]
    public async Task Busy_environment_waits_without_counting_a_fault()
    {
        locks.TryAcquireAsync(default!, default).ReturnsForAnyArgs((ILeaseLock?)null);

        var outcome = Assert.IsType<HandlerOutcome.RetryLater>(await Runner().HandleAsync(Delivery(), default));

        Assert.False(outcome.IsFault);
        await provider.DidNotReceiveWithAnyArgs().DeployAsync(default!, default);
    }

    [Fact]
    public async Task Lock_is_per_repository_and_environment()
    {
        provider.DeployAsync(default!, default).ReturnsForAnyArgs(new ProviderResult.Succeeded(null, null, "ok"));

        await Runner().HandleAsync(Delivery(), default);

        await locks.Received(1).TryAcquireAsync("environments/Codertocat/Hello-World/production", Arg.Any<CancellationToken>());
        await held.Received(1).DisposeAsync();
    }

    [Theory]
    [InlineData(DeploymentState.Success)]
    [InlineData(DeploymentState.Failure)]
    [InlineData(DeploymentState.Error)]
    [InlineData(DeploymentState.Inactive)]
    public async Task Deployment_with_a_final_status_is_left_alone(DeploymentState state)
    {
        Statuses.GetAll("Codertocat", "Hello-World", 145988746).Returns([Status(state)]);

        Assert.IsType<HandlerOutcome.Completed>(await Runner().HandleAsync(Delivery(), default));

        await provider.DidNotReceiveWithAnyArgs().DeployAsync(default!, default);
        await Statuses.DidNotReceiveWithAnyArgs().Create(default!, default!, default, default!);
    }

    [Fact]
    public async Task Success_posts_in_progress_then_success_with_the_environment_url()
    {
        provider.DeployAsync(default!, default).ReturnsForAnyArgs(
            new ProviderResult.Succeeded(new Uri("https://app.example.com/"), new Uri("https://ci.example.com/run/1"), "Deployed"));

        await Runner().HandleAsync(Delivery(), default);

        Received.InOrder(() =>
        {
            Statuses.Create("Codertocat", "Hello-World", 145988746, Arg.Is<NewDeploymentStatus>(s => s.State == DeploymentState.InProgress));
            provider.DeployAsync(Arg.Any<DeploymentJob>(), Arg.Any<CancellationToken>());
            held.SaveAsync(Arg.Is<IReadOnlyDictionary<string, string>>(r => r["state"] == "success"), Arg.Any<CancellationToken>());
            Statuses.Create("Codertocat", "Hello-World", 145988746, Arg.Is<NewDeploymentStatus>(s =>
                s.State == DeploymentState.Success && s.EnvironmentUrl == "https://app.example.com/" && s.LogUrl == "https://ci.example.com/run/1"));
        });
    }

    [Fact]
    public async Task Provider_saying_no_is_failure()
    {
        provider.DeployAsync(default!, default).ReturnsForAnyArgs(new ProviderResult.Failed(null, "Deploy hook answered 500"));

        await Runner().HandleAsync(Delivery(), default);

        await Statuses.Received(1).Create("Codertocat", "Hello-World", 145988746,
            Arg.Is<NewDeploymentStatus>(s => s.State == DeploymentState.Failure && s.Description == "Deploy hook answered 500"));
    }

    [Fact]
    public async Task Provider_unable_to_work_is_error()
    {
        provider.DeployAsync(default!, default).ThrowsAsyncForAnyArgs(new DeploymentProviderException("The deploy hook did not answer within 120 s"));

        await Runner().HandleAsync(Delivery(), default);

        await Statuses.Received(1).Create("Codertocat", "Hello-World", 145988746,
            Arg.Is<NewDeploymentStatus>(s => s.State == DeploymentState.Error && s.Description!.Contains("did not answer")));
    }

    [Fact]
    public async Task A_result_recorded_by_an_earlier_attempt_is_reported_without_deploying_again()
    {
        held.Record.Returns(new Dictionary<string, string>
        {
            ["deployment_id"] = "145988746", ["state"] = "success", ["description"] = "Deployed",
            ["environment_url"] = Uri.EscapeDataString("https://app.example.com/"),
        });

        await Runner().HandleAsync(Delivery(), default);

        await provider.DidNotReceiveWithAnyArgs().DeployAsync(default!, default);
        await Statuses.Received(1).Create("Codertocat", "Hello-World", 145988746,
            Arg.Is<NewDeploymentStatus>(s => s.State == DeploymentState.Success && s.EnvironmentUrl == "https://app.example.com/"));
    }

    [Fact]
    public async Task An_error_recorded_by_an_earlier_attempt_is_reported_as_error_again()
    {
        held.Record.Returns(new Dictionary<string, string>
        {
            ["deployment_id"] = "145988746", ["state"] = "error", ["description"] = Uri.EscapeDataString("The deploy hook did not answer within 120 s"),
        });

        await Runner().HandleAsync(Delivery(), default);

        await provider.DidNotReceiveWithAnyArgs().DeployAsync(default!, default);
        await Statuses.Received(1).Create("Codertocat", "Hello-World", 145988746, Arg.Is<NewDeploymentStatus>(s =>
            s.State == DeploymentState.Error && s.Description == "The deploy hook did not answer within 120 s"));
    }

    [Fact]
    public async Task A_record_of_another_deployment_does_not_stop_this_one()
    {
        held.Record.Returns(new Dictionary<string, string> { ["deployment_id"] = "1", ["state"] = "success", ["description"] = "x" });
        provider.DeployAsync(default!, default).ReturnsForAnyArgs(new ProviderResult.Succeeded(null, null, "ok"));

        await Runner().HandleAsync(Delivery(), default);

        await provider.ReceivedWithAnyArgs(1).DeployAsync(default!, default);
    }

    [Fact]
    public async Task Handed_off_deployment_gets_in_progress_with_the_log_url_and_no_final_status()
    {
        provider.LogUrlFor(default!).ReturnsForAnyArgs(new Uri("https://github.com/Codertocat/Hello-World/actions/workflows/deploy.yml"));
        provider.DeployAsync(default!, default).ReturnsForAnyArgs(new ProviderResult.HandedOff("dispatched"));

        await Runner().HandleAsync(Delivery(), default);

        await Statuses.Received(1).Create("Codertocat", "Hello-World", 145988746, Arg.Is<NewDeploymentStatus>(s =>
            s.State == DeploymentState.InProgress && s.LogUrl == "https://github.com/Codertocat/Hello-World/actions/workflows/deploy.yml"));
        await Statuses.ReceivedWithAnyArgs(1).Create(default!, default!, default, default!);
    }

    [Fact]
    public async Task Giving_up_leaves_the_deployment_in_error()
    {
        await Runner().OnGiveUpAsync(Delivery(), "still failing after 8 retries", default);

        await Statuses.Received(1).Create("Codertocat", "Hello-World", 145988746,
            Arg.Is<NewDeploymentStatus>(s => s.State == DeploymentState.Error && s.Description!.Contains("gave up")));
    }
}
