using DeployFunctions.Commands;
using DeployFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace DeployFunctions.Tests.Protection;

/// <summary>
/// Custom deployment protection rules end to end: the stand-in sends the (derived) <c>deployment_protection_rule</c>
/// event as a GitHub App installation would receive it, and records the answer at the run's callback.
/// </summary>
public sealed class ProtectionRuleTests(Azurite azurite) : IClassFixture<Azurite>
{
    private const string Sha = "3333333333333333333333333333333333333333";

    private async Task<Support.Pipeline> StartAsync(Action<Dictionary<string, string?>>? configure = null) =>
        await Support.Pipeline.StartAsync(azurite, s =>
        {
            s["Protection:PollSeconds"] = "0.3";
            configure?.Invoke(s);
        });

    private static Task<int> RequestAsync(Support.Pipeline pipeline, long run, string environment = "production", string? deliveryId = null) =>
        pipeline.DeliverAsync("deployment_protection_rule",
            pipeline.GitHub.ProtectionRuleRequested(pipeline.GitHub.State.Repository("octo", "app"), environment, Sha, run, "alice", 42), deliveryId);

    [Fact]
    public async Task A_repositorys_own_environment_approves_jobs_from_the_branches_it_lists_and_is_frozen_with_its_target()
    {
        await using var pipeline = await StartAsync(s =>
        {
            s["Targets:shared:Provider"] = "simulated";
            s["Targets:shared:Repositories"] = "octo/*";
            s["Targets:frozen:Provider"] = "simulated";
            s["Targets:frozen:Repositories"] = "octo/*";
            s["Freezes:0:Environment"] = "frozen";
            s["Freezes:0:Reason"] = "release freeze";
            s["Freezes:0:From"] = DateTimeOffset.UtcNow.AddHours(-1).ToString("O");
            s["Freezes:0:Until"] = DateTimeOffset.UtcNow.AddHours(1).ToString("O");
            s["Protection:MaxWaitMinutes"] = "0.01";
        });
        pipeline.GitHub.State.CombinedStatuses[Sha] = ("success", "ci/build");
        pipeline.GitHub.State.Files[("octo/app", ".github/deployfunctions.yml")] =
            "environments:\n  web-prod:\n    target: shared\n    branches: [main]\n  web-qa:\n    target: shared\n  web-frozen:\n    target: frozen\n    branches: [main]\n";

        await RequestAsync(pipeline, 601, "web-prod");
        await RequestAsync(pipeline, 602, "web-qa");
        await RequestAsync(pipeline, 603, "web-frozen");
        await Eventually.TrueAsync(() => pipeline.GitHub.State.ProtectionAnswers.Count == 3, "three answers");

        var answers = pipeline.GitHub.State.ProtectionAnswers.ToDictionary(a => a.RunId);
        Assert.Equal("approved", answers[601].State);
        Assert.Equal("rejected", answers[602].State); // main is not one of web-qa's branches
        Assert.Contains("for a repository's own environment only its listed branches", answers[602].Comment, StringComparison.Ordinal);
        Assert.Equal("rejected", answers[603].State);
        Assert.Contains("release freeze", answers[603].Comment, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_with_nothing_against_it_is_approved()
    {
        await using var pipeline = await StartAsync();
        pipeline.GitHub.State.CombinedStatuses[Sha] = ("success", "ci/build");

        Assert.Equal(202, await RequestAsync(pipeline, 501));

        await Eventually.TrueAsync(() => !pipeline.GitHub.State.ProtectionAnswers.IsEmpty, "the answer");
        var answer = Assert.Single(pipeline.GitHub.State.ProtectionAnswers);
        Assert.Equal((501L, "production", "approved"), (answer.RunId, answer.Environment, answer.State));
        Assert.Contains("approved production", answer.Comment, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_check_run_is_rejected_like_a_failing_status_and_a_running_one_is_not_waited_for()
    {
        await using var pipeline = await StartAsync();
        pipeline.GitHub.State.CombinedStatuses[Sha] = ("success", "ci/lint");
        pipeline.GitHub.State.AddCheckRun(Sha, "deploy / production", "in_progress", null); // the very job that asks
        pipeline.GitHub.State.AddCheckRun(Sha, "build", "completed", "failure"); // GitHub Actions reports only as check runs

        await RequestAsync(pipeline, 504);

        await Eventually.TrueAsync(() => !pipeline.GitHub.State.ProtectionAnswers.IsEmpty, "the answer");
        var answer = Assert.Single(pipeline.GitHub.State.ProtectionAnswers);
        Assert.Equal("rejected", answer.State);
        Assert.Contains("checks are failing (build)", answer.Comment, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Failing_checks_and_an_unusable_configuration_are_rejected_with_the_reason()
    {
        await using var pipeline = await StartAsync();
        pipeline.GitHub.State.CombinedStatuses[Sha] = ("failure", "ci/test");

        await RequestAsync(pipeline, 502);
        await Eventually.TrueAsync(() => pipeline.GitHub.State.ProtectionAnswers.Count == 1, "the first answer");
        pipeline.GitHub.State.CombinedStatuses[Sha] = ("success", "ci/test");
        pipeline.GitHub.State.Files[("octo/app", ".github/deployfunctions.yml")] = "environments:\n  qa: {}\n";
        await RequestAsync(pipeline, 503);
        await Eventually.TrueAsync(() => pipeline.GitHub.State.ProtectionAnswers.Count == 2, "the second answer");

        var answers = pipeline.GitHub.State.ProtectionAnswers.ToList();
        Assert.Equal(("rejected", "rejected"), (answers[0].State, answers[1].State));
        Assert.Contains("checks are failing (ci/test)", answers[0].Comment, StringComparison.Ordinal);
        Assert.Contains("environments.qa: not an environment", answers[1].Comment, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lock_held_by_someone_else_makes_the_request_wait_and_approve_once_it_is_released()
    {
        await using var pipeline = await StartAsync();
        var locks = pipeline.Services.GetRequiredService<IEnvironmentLocks>();
        var held = (LockAttempt.Taken)await locks.TryLockAsync(new EnvironmentLock
        {
            Repository = "octo/app", Environment = "production", Holder = "bob", Since = DateTimeOffset.UtcNow, Reason = "migration",
        }, CancellationToken.None);

        await RequestAsync(pipeline, 504);
        await Task.Delay(1500); // several evaluations: still waiting, nothing answered
        Assert.Empty(pipeline.GitHub.State.ProtectionAnswers);
        await locks.ReleaseAsync(held.Lock, CancellationToken.None);

        await Eventually.TrueAsync(() => !pipeline.GitHub.State.ProtectionAnswers.IsEmpty, "the later approval");
        Assert.Equal("approved", Assert.Single(pipeline.GitHub.State.ProtectionAnswers).State);
    }

    [Fact]
    public async Task A_freeze_is_waited_out_and_approved_when_it_ends()
    {
        await using var pipeline = await StartAsync(s =>
        {
            s["Freezes:0:Reason"] = "release freeze";
            s["Freezes:0:From"] = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("O");
            s["Freezes:0:Until"] = DateTimeOffset.UtcNow.AddSeconds(3).ToString("O");
        });

        await RequestAsync(pipeline, 505);
        await Task.Delay(1000);
        Assert.Empty(pipeline.GitHub.State.ProtectionAnswers);

        await Eventually.TrueAsync(() => !pipeline.GitHub.State.ProtectionAnswers.IsEmpty, "the approval after the freeze");
        Assert.Equal("approved", Assert.Single(pipeline.GitHub.State.ProtectionAnswers).State);
    }

    [Fact]
    public async Task A_wait_past_its_limit_is_rejected_and_a_redelivered_request_answers_nothing_twice()
    {
        await using var pipeline = await StartAsync(s => s["Protection:MaxWaitMinutes"] = "0.01");
        await pipeline.Services.GetRequiredService<IEnvironmentLocks>().TryLockAsync(new EnvironmentLock
        {
            Repository = "octo/app", Environment = "production", Holder = "bob", Since = DateTimeOffset.UtcNow,
        }, CancellationToken.None);

        await RequestAsync(pipeline, 506, deliveryId: "same");
        await Eventually.TrueAsync(() => !pipeline.GitHub.State.ProtectionAnswers.IsEmpty, "the rejection");
        await RequestAsync(pipeline, 506, deliveryId: "same");
        await Eventually.TrueAsync(() => pipeline.GitHub.State.Requests.Count(r => r.Path.EndsWith("/deployment_protection_rule", StringComparison.Ordinal)) == 2,
            "the redelivery handled");

        var answer = Assert.Single(pipeline.GitHub.State.ProtectionAnswers);
        Assert.Equal("rejected", answer.State);
        Assert.Contains("locked by @bob", answer.Comment, StringComparison.Ordinal);
        Assert.Contains("still after 0.01 minutes", answer.Comment, StringComparison.Ordinal);
        Assert.Equal(0, await pipeline.PoisonCountAsync("protection-rules"));
    }

    [Fact]
    public async Task A_callback_that_is_not_GitHubs_is_never_called()
    {
        await using var pipeline = await StartAsync();
        var payload = pipeline.GitHub.ProtectionRuleRequested(pipeline.GitHub.State.Repository("octo", "app"), "production", Sha, 507, "alice", 42);
        payload["deployment_callback_url"] = "https://attacker.example/repos/octo/app/actions/runs/507/deployment_protection_rule";

        await pipeline.DeliverAsync("deployment_protection_rule", payload);

        await Eventually.TrueAsync(async () => await pipeline.PoisonCountAsync("protection-rules") == 1, "the request refused");
        Assert.Empty(pipeline.GitHub.State.ProtectionAnswers);
    }

    [Fact]
    public async Task A_commit_status_error_rejects_like_a_failure()
    {
        await using var pipeline = await StartAsync();
        pipeline.GitHub.State.CombinedStatuses[Sha] = ("error", "ci/test");

        await RequestAsync(pipeline, 505);

        await Eventually.TrueAsync(() => !pipeline.GitHub.State.ProtectionAnswers.IsEmpty, "the answer");
        var answer = Assert.Single(pipeline.GitHub.State.ProtectionAnswers);
        Assert.Equal("rejected", answer.State);
        Assert.Contains("checks are failing (ci/test)", answer.Comment, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("repos/octo/other/actions/runs/506/deployment_protection_rule")] // another repository's run on the same API host
    [InlineData("repos/octo/app/actions/runs/506/approve")] // this repository's run, but not the protection rule endpoint
    public async Task The_answer_goes_only_to_this_repositorys_own_run_endpoint_on_the_API(string path)
    {
        await using var pipeline = await StartAsync();
        pipeline.GitHub.State.CombinedStatuses[Sha] = ("success", "ci/build");
        var request = pipeline.GitHub.ProtectionRuleRequested(pipeline.GitHub.State.Repository("octo", "app"), "production", Sha, 506, "alice", 42);
        request["deployment_callback_url"] = new Uri(pipeline.GitHub.BaseAddress, path).ToString();

        await pipeline.DeliverAsync("deployment_protection_rule", request);

        await Eventually.TrueAsync(async () => await pipeline.PoisonCountAsync("protection-rules") == 1, "the request refused into poison");
        Assert.DoesNotContain(pipeline.GitHub.State.Requests, r => r.Method == "POST" && r.Path.Contains("/actions/runs/", StringComparison.Ordinal));
        Assert.Empty(pipeline.GitHub.State.ProtectionAnswers);
    }
}
