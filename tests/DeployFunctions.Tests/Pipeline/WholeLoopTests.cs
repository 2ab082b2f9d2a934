using System.Text.Json.Nodes;
using DeployFunctions.Ledger;
using DeployFunctions.Tests.Support;
using GitHubStandIn;
using Microsoft.Extensions.DependencyInjection;

namespace DeployFunctions.Tests.Pipeline;

/// <summary>
/// The whole loop on real parts: signed deliveries over HTTP into the ingress, real Azurite queues, Octokit's real
/// requests to the GitHub stand-in, and the stand-in's webhooks coming back.
/// </summary>
public sealed class WholeLoopTests(Azurite azurite) : IClassFixture<Azurite>
{
    private const string MergeSha = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c";

    [Fact]
    public async Task Merged_pull_request_into_the_default_branch_deploys_once_to_production_and_records_every_status()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        var merged = MergedIntoDefaultBranch();

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", merged));

        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1 && pipeline.StatesOf(pipeline.Deployments()[0]).Contains("success"),
            "a deployment that reaches success");
        var deployment = Assert.Single(pipeline.Deployments());
        Assert.Equal(MergeSha, deployment.Sha);
        Assert.Equal("production", deployment.Environment);
        Assert.Equal(["in_progress", "success"], pipeline.StatesOf(deployment));

        // What Octokit actually sent.
        var request = deployment.Request;
        Assert.Equal(MergeSha, (string?)request["ref"]);
        Assert.Equal("deploy", (string?)request["task"]);
        Assert.False((bool)request["auto_merge"]!);
        Assert.Equal("production", (string?)request["environment"]);
        Assert.Null(request["required_contexts"]); // unset: GitHub checks every context
        var payload = request["payload"]!.AsObject();
        Assert.Equal("production", (string?)payload["environment"]);
        Assert.Equal("Codertocat", (string?)payload["deploy_user"]);
        Assert.Equal((string?)merged["pull_request"]!["number"]!.ToString(), (string?)payload["pull_request"]);
        Assert.Equal("deployfunctions", (string?)payload["created_by"]);
        Assert.StartsWith($"Pull request #{merged["pull_request"]!["number"]} merged by Codertocat", (string?)request["description"], StringComparison.Ordinal);
        // The ledger knows nothing was created yet: GitHub's list is asked only after an answer was lost.
        Assert.DoesNotContain(pipeline.GitHub.State.Requests, r => r.Method == "GET" && r.Path.EndsWith("/deployments", StringComparison.Ordinal));

        await Eventually.TrueAsync(() => pipeline.HistoryAsync("Codertocat/Hello-World").Result.Count == 2, "two history rows");
        var history = await pipeline.HistoryAsync("Codertocat/Hello-World", "production");
        Assert.Equal(["success", "in_progress"], history.Select(h => h.State));
        Assert.All(history, h => Assert.Equal(deployment.Id, h.DeploymentId));
        Assert.Empty(pipeline.Pump.Failures);
    }

    [Fact]
    public async Task Fork_pull_request_deploys_the_base_repository_at_the_merge_commit_not_the_fork_head()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        var merged = MergedIntoDefaultBranch();
        var head = merged["pull_request"]!["head"]!.AsObject();
        head["repo"]!["full_name"] = "someone/Hello-World";
        head["repo"]!["owner"]!["login"] = "someone";
        head["repo"]!["fork"] = true;
        head["sha"] = "ffffffffffffffffffffffffffffffffffffffff";

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", merged));

        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1, "one deployment");
        var deployment = pipeline.Deployments()[0];
        Assert.Equal("Codertocat/Hello-World", deployment.Repository.FullName);
        Assert.Equal(MergeSha, deployment.Sha);
    }

    [Fact]
    public async Task Merge_into_a_branch_that_does_not_deploy_creates_nothing()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        var merged = MergedIntoDefaultBranch();
        merged["pull_request"]!["base"]!["ref"] = "feature/x";

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", merged));

        await Eventually.TrueAsync(() => pipeline.Pump.Invocations >= 1, "the handler ran");
        await Task.Delay(300);
        Assert.Empty(pipeline.Deployments());
        Assert.DoesNotContain(pipeline.GitHub.State.Requests, r => r.Path.Contains("/deployments", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Pull_request_closed_without_merge_is_never_queued_nor_deployed()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);

        Assert.Equal(200, await pipeline.DeliverAsync("pull_request", WebhookExamples.Get("pull_request", "closed")));

        await Task.Delay(300);
        Assert.Equal(0, pipeline.Pump.Invocations);
        Assert.Empty(pipeline.Deployments());
    }

    [Fact]
    public async Task The_same_merged_pull_request_delivered_50_times_creates_exactly_one_deployment()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        var merged = MergedIntoDefaultBranch();

        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => pipeline.DeliverAsync("pull_request", merged, "same-delivery")));

        Assert.All(answers, status => Assert.Equal(202, status));
        await Eventually.TrueAsync(() => pipeline.Pump.Invocations >= 50 + 1 + 2 && pipeline.Deployments().Count == 1 &&
                                         pipeline.StatesOf(pipeline.Deployments()[0]).Contains("success"),
            "all 50 deliveries handled and the deployment finished", TimeSpan.FromSeconds(60));
        await Eventually.TrueAsync(() => QueuesEmptyAsync(pipeline).Result, "every queue drained", TimeSpan.FromSeconds(60));
        var deployment = Assert.Single(pipeline.Deployments());
        Assert.Equal(["in_progress", "success"], pipeline.StatesOf(deployment));
        Assert.Single(pipeline.GitHub.State.Requests, r => r.Method == "POST" && r.Path.EndsWith("/deployments", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_deployment_the_app_created_whose_answer_was_lost_is_found_and_nothing_new_is_created()
    {
        // As if an earlier attempt sent the create, GitHub created it, and the answer never came back: the approval says a
        // create was sent, and GitHub lists a deployment of the commit made by the app's own credentials.
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        var ledger = pipeline.Services.GetRequiredService<IDeploymentLedger>();
        var approval = await ledger.ApproveAsync(new LedgerEntry
        {
            Repository = "Codertocat/Hello-World", Environment = "production", Sha = MergeSha, Ref = MergeSha, BaseBranch = "master",
            Source = LedgerSources.Merge, PullRequest = 2, RequestedBy = "Codertocat", Reason = "merged", Order = DateTimeOffset.UtcNow,
            Payload = "{}", DeliveryId = "d-earlier",
        }, CancellationToken.None);
        await ledger.UpdateApprovalAsync(approval with { CreateSentAt = DateTimeOffset.UtcNow }, CancellationToken.None);
        var existing = new StandInDeployment
        {
            Id = pipeline.GitHub.State.NextDeploymentId(),
            Repository = pipeline.GitHub.State.Repository("Codertocat", "Hello-World", "master"),
            Sha = MergeSha, Ref = MergeSha, Task = "deploy", Environment = "production",
            Payload = JsonNode.Parse("""{"nested":{"by":"another tool"},"list":[1,2]}"""),
            Creator = StandInState.AppLogin, CreatedAt = DateTimeOffset.UtcNow, Request = [],
        };
        lock (pipeline.GitHub.State.Gate)
        {
            pipeline.GitHub.State.Deployments.Add(existing);
        }

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", MergedIntoDefaultBranch()));

        await Eventually.TrueAsync(async () => await ledger.FindDeploymentAsync("Codertocat/Hello-World", "production", existing.Id, CancellationToken.None) is not null,
            "the found deployment recorded");
        Assert.Single(pipeline.Deployments());
        Assert.DoesNotContain(pipeline.GitHub.State.Requests, r => r.Method == "POST" && r.Path.EndsWith("/deployments", StringComparison.Ordinal));
        Assert.Empty(pipeline.Pump.Failures);
    }

    [Fact]
    public async Task Checks_pending_twice_then_created_gives_one_deployment()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        var conflict = """{"message":"Conflict: Commit status checks failed for main.","documentation_url":"https://docs.github.com/rest/deployments/deployments#create-a-deployment"}""";
        pipeline.GitHub.State.AddFault(new Fault("POST", "/deployments", 409, conflict));
        pipeline.GitHub.State.AddFault(new Fault("POST", "/deployments", 409, conflict));

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", MergedIntoDefaultBranch()));

        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1, "the deployment once checks pass");
        await Task.Delay(500);
        Assert.Single(pipeline.Deployments());
        Assert.Equal([409, 409, 201], pipeline.GitHub.State.Requests
            .Where(r => r.Method == "POST" && r.Path.EndsWith("/deployments", StringComparison.Ordinal)).Select(r => r.Status));
        Assert.Equal(0, await pipeline.PoisonCountAsync("pull-requests"));
    }

    [Fact]
    public async Task A_merge_waiting_for_its_checks_is_listed_as_waiting_until_its_deployment_is_created()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, settings => settings["Deploy:ChecksRetrySeconds"] = "1");
        var conflict = """{"message":"Conflict: Commit status checks failed for main.","documentation_url":"https://docs.github.com/rest/deployments/deployments#create-a-deployment"}""";
        for (var i = 0; i < 6; i++)
        {
            pipeline.GitHub.State.AddFault(new Fault("POST", "/deployments", 409, conflict));
        }

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", MergedIntoDefaultBranch()));

        var locks = pipeline.Services.GetRequiredService<DeployFunctions.Commands.IEnvironmentLocks>();
        await Eventually.TrueAsync(async () => (await locks.ListWaitingAsync("Codertocat/Hello-World", default))
            .Any(w => w.Reason.Contains("waiting for its commit's checks (Conflict: Commit status checks failed", StringComparison.Ordinal)), "listed as waiting for checks");
        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1, "the deployment once checks pass", TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(async () => (await locks.ListWaitingAsync("Codertocat/Hello-World", default)).Count == 0, "no longer waiting");
    }

    [Fact]
    public async Task Merge_conflict_409_is_permanent_and_poisoned_not_retried()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        pipeline.GitHub.State.AddFault(new Fault("POST", "/deployments", 409, """{"message":"Conflict merging main into topic."}"""));

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", MergedIntoDefaultBranch()));

        await Eventually.TrueAsync(() => pipeline.PoisonCountAsync("pull-requests").Result == 1, "the delivery in poison");
        Assert.Empty(pipeline.Deployments());
        Assert.Single(pipeline.GitHub.State.Requests, r => r.Method == "POST" && r.Path.EndsWith("/deployments", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Server_error_then_created_gives_one_deployment()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        pipeline.GitHub.State.AddFault(new Fault("POST", "/deployments", 500, """{"message":"Server Error"}"""));

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", MergedIntoDefaultBranch()));

        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1, "the deployment after the 500");
        await Task.Delay(500);
        Assert.Single(pipeline.Deployments());
        Assert.Equal([500, 201], pipeline.GitHub.State.Requests
            .Where(r => r.Method == "POST" && r.Path.EndsWith("/deployments", StringComparison.Ordinal)).Select(r => r.Status));
    }

    [Fact]
    public async Task Unauthorized_is_not_retried_in_a_loop_and_ends_in_poison()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        pipeline.GitHub.State.AddFault(new Fault("GET", "/commits", 401, """{"message":"Bad credentials"}"""));
        pipeline.GitHub.State.AddFault(new Fault("GET", "/commits", 401, """{"message":"Bad credentials"}"""));

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", MergedIntoDefaultBranch()));

        await Eventually.TrueAsync(() => pipeline.PoisonCountAsync("pull-requests").Result == 1, "the delivery in poison");
        await Task.Delay(1000);
        // The first call said 401: the cached credentials are dropped and asked once more; a second 401 ends it, no loop.
        Assert.Equal(2, pipeline.GitHub.State.Requests.Count);
        Assert.Empty(pipeline.Deployments());
    }

    [Fact]
    public async Task Rate_limited_with_retry_after_waits_that_long_before_trying_again()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        pipeline.GitHub.State.AddFault(new Fault("POST", "/deployments", 429, """{"message":"API rate limit exceeded"}""")
        {
            Headers = new Dictionary<string, string> { ["Retry-After"] = "2" },
        });

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", MergedIntoDefaultBranch()));

        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1, "the deployment after the wait");
        var posts = pipeline.GitHub.State.Requests
            .Where(r => r.Method == "POST" && r.Path.EndsWith("/deployments", StringComparison.Ordinal)).ToList();
        Assert.Equal([429, 201], posts.Select(r => r.Status));
        Assert.True(posts[1].At - posts[0].At >= TimeSpan.FromSeconds(2), $"retried after {posts[1].At - posts[0].At}");
    }

    [Fact]
    public async Task Secondary_rate_limit_403_with_retry_after_waits_that_long()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        pipeline.GitHub.State.AddFault(new Fault("POST", "/deployments", 403,
            """{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}""")
        {
            Headers = new Dictionary<string, string> { ["Retry-After"] = "2" },
        });

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", MergedIntoDefaultBranch()));

        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1, "the deployment after the wait");
        var posts = pipeline.GitHub.State.Requests
            .Where(r => r.Method == "POST" && r.Path.EndsWith("/deployments", StringComparison.Ordinal)).ToList();
        Assert.True(posts[1].At - posts[0].At >= TimeSpan.FromSeconds(2), $"retried after {posts[1].At - posts[0].At}");
    }

    [Fact]
    public async Task Two_deployments_to_one_environment_never_overlap_and_the_newer_merge_is_what_stays_deployed()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, settings =>
            settings["Environments:production:DelaySeconds"] = "1");

        await Task.WhenAll(
            pipeline.DeliverAsync("pull_request", MergedAt('1', number: 2, "2026-11-26T09:00:00Z")),
            pipeline.DeliverAsync("pull_request", MergedAt('2', number: 3, "2026-11-26T09:00:05Z")));

        // Whichever the runner takes first: the newer merge ends deployed; the older one ran before it or not at all.
        var (older, newer) = await SettledAsync(pipeline);
        var spans = pipeline.Deployments().Where(d => pipeline.StatesOf(d).Contains("in_progress")).Select(d =>
        {
            lock (pipeline.GitHub.State.Gate)
            {
                return (Start: d.Statuses.Single(s => s.State == "in_progress").CreatedAt, End: d.Statuses.Single(s => s.State == "success").CreatedAt,
                    Sha: d.Sha);
            }
        }).OrderBy(s => s.Start).ToList();
        Assert.Equal(newer.Sha, spans[^1].Sha);
        if (spans.Count == 2)
        {
            Assert.True(spans[0].End <= spans[1].Start, $"overlap: first ran {spans[0].Start:O}-{spans[0].End:O}, second started {spans[1].Start:O}");
        }
        else
        {
            Assert.Equal(["inactive"], pipeline.StatesOf(older));
        }
    }

    [Fact]
    public async Task An_older_merge_whose_checks_finish_after_a_newer_merge_deployed_is_marked_inactive_and_never_runs()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, settings => settings["Deploy:ChecksRetrySeconds"] = "3");
        pipeline.GitHub.State.AddFault(new Fault("POST", "/deployments", 409, """{"message":"Conflict: Commit status checks failed for master."}"""));

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", MergedAt('1', number: 2, "2026-11-26T09:00:00Z")));
        await Eventually.TrueAsync(() => pipeline.GitHub.State.Requests.Any(r => r.Method == "POST" && r.Status == 409), "the older merge waits for checks");
        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", MergedAt('2', number: 3, "2026-11-26T09:01:00Z")));

        var (oldest, newest) = await SettledAsync(pipeline);
        Assert.Equal(["inactive"], pipeline.StatesOf(oldest));
        lock (pipeline.GitHub.State.Gate)
        {
            Assert.Contains($"Superseded by deployment {newest.Id}", oldest.Statuses.Single().Description, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_collaborator_creating_a_production_deployment_of_an_unreviewed_branch_gets_nothing_run_and_no_status()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        // Anyone with write access can call the Deployments API, and can copy the app's payload marker.
        var attacker = new Octokit.GitHubClient(new Octokit.ProductHeaderValue("attacker"), pipeline.GitHub.BaseAddress)
        {
            Credentials = new Octokit.Credentials("collaborator-token"),
        };
        var forged = await attacker.Repository.Deployment.Create("Codertocat", "Hello-World", new Octokit.NewDeployment("unreviewed-branch")
        {
            Environment = "production",
            AutoMerge = false,
            RequiredContexts = [],
            Payload = new Dictionary<string, string> { ["created_by"] = "deployfunctions", ["base_branch"] = "unreviewed-branch" },
        });

        await Eventually.TrueAsync(() => pipeline.Pump.Invocations >= 1, "the deployment event was handled");
        await Task.Delay(500);
        Assert.Empty(pipeline.StatesOf(pipeline.Deployments().Single(d => d.Id == forged.Id)));
        Assert.DoesNotContain(pipeline.GitHub.State.Requests, r => r.Path.EndsWith("/statuses", StringComparison.Ordinal));
        Assert.Empty(pipeline.Pump.Failures);
    }

    [Fact]
    public async Task Deployments_created_by_others_for_unconfigured_environments_are_left_alone()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        var foreign = WebhookExamples.Get("deployment", "created");
        foreign["deployment"]!["environment"] = "github-pages";

        Assert.Equal(202, await pipeline.DeliverAsync("deployment", foreign));

        await Eventually.TrueAsync(() => pipeline.Pump.Invocations >= 1, "the handler ran");
        await Task.Delay(300);
        Assert.Empty(pipeline.GitHub.State.Requests);
    }

    private static async Task<bool> QueuesEmptyAsync(Support.Pipeline pipeline)
    {
        foreach (var suffix in new[] { "pull-requests", "deployments", "deployment-statuses" })
        {
            var queue = pipeline.Azurite.Queues().GetQueueClient($"{pipeline.Prefix}-{suffix}");
            if ((await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount > 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>DERIVED from GitHub's real closed example: merged into the repository's default branch.</summary>
    /// <summary>A merge of commit <c>cccc…</c> (40 times <paramref name="commit"/>) at <paramref name="mergedAt"/>. DERIVED.</summary>
    private static JsonObject MergedAt(char commit, int number, string mergedAt)
    {
        var merged = MergedIntoDefaultBranch(new string(commit, 40));
        merged["pull_request"]!["number"] = number;
        merged["pull_request"]!["merged_at"] = mergedAt;
        return merged;
    }

    /// <summary>Waits until the merges of commits 1111… and 2222… both ended; the newer must have succeeded.</summary>
    private static async Task<(StandInDeployment Older, StandInDeployment Newer)> SettledAsync(Support.Pipeline pipeline)
    {
        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 2 &&
                                         pipeline.Deployments().All(d => pipeline.StatesOf(d).Any(s => s is "success" or "inactive")),
            "both deployments settled", TimeSpan.FromSeconds(60));
        var older = pipeline.Deployments().Single(d => d.Sha.StartsWith('1'));
        var newer = pipeline.Deployments().Single(d => d.Sha.StartsWith('2'));
        Assert.Equal(["in_progress", "success"], pipeline.StatesOf(newer));
        return (older, newer);
    }

    private static JsonObject MergedIntoDefaultBranch(string sha = MergeSha)
    {
        var merged = WebhookExamples.DerivedMergedPullRequest(sha);
        merged["pull_request"]!["base"]!["ref"] = (string?)merged["repository"]!["default_branch"];
        merged["pull_request"]!["labels"] = new JsonArray();
        return merged;
    }
}

/// <summary>Providers and give-up paths through the whole loop.</summary>
public sealed class PipelineProviderTests(Azurite azurite) : IClassFixture<Azurite>
{
    [Fact]
    public async Task Http_provider_deploys_through_the_hook_and_reports_its_urls()
    {
        await using var hook = await RecordingServer.StartAsync();
        hook.Answer = """{"environment_url":"https://app.example.com/"}""";
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, settings =>
        {
            settings["Environments:production:Provider"] = "http";
            settings["Environments:production:Url"] = hook.Url.ToString();
            settings["Environments:production:Secret"] = "a-hook-secret-of-some-length";
        });

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", Merged()));

        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1 && pipeline.StatesOf(pipeline.Deployments()[0]).Contains("success"), "success");
        Assert.Single(hook.Received);
        lock (pipeline.GitHub.State.Gate)
        {
            Assert.Equal("https://app.example.com/", pipeline.Deployments()[0].Statuses.Single(s => s.State == "success").EnvironmentUrl);
        }
    }

    [Fact]
    public async Task A_workflow_dispatch_GitHub_answers_502_is_looked_for_then_dispatched_again_once()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, settings =>
        {
            settings["Environments:production:Provider"] = "github-actions";
            settings["Environments:production:Workflow"] = "deploy.yml";
            settings["GitHub:RequestTimeoutSeconds"] = "2"; // a dispatch GitHub was still working on is listed within this (plus 10 s)
        });
        pipeline.GitHub.State.AddFault(new Fault("POST", "/dispatches", 502, """{"message":"Server Error"}"""));

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", Merged()));

        await Eventually.TrueAsync(() => Dispatches(pipeline).Count == 2, "a second dispatch, once no run of the first was listed");
        await Task.Delay(500);
        Assert.Equal([502, 200], Dispatches(pipeline).Select(r => r.Status));
        Assert.Contains(pipeline.GitHub.State.Requests, r => r.Method == "GET" && r.Path.EndsWith("/actions/workflows/deploy.yml/runs", StringComparison.Ordinal));
        Assert.DoesNotContain("error", pipeline.StatesOf(Assert.Single(pipeline.Deployments())));
    }

    [Fact]
    public async Task A_workflow_dispatch_whose_answer_was_lost_is_found_by_its_run_and_never_dispatched_twice()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, settings =>
        {
            settings["Environments:production:Provider"] = "github-actions";
            settings["Environments:production:Workflow"] = "deploy.yml";
        });
        // GitHub starts the run, but its answer never reaches the app (which gives up after GitHub:RequestTimeoutSeconds).
        pipeline.GitHub.State.AddFault(new Fault("POST", "/dispatches", 0) { AfterHandling = true, Delay = TimeSpan.FromSeconds(8) });

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", Merged()));

        var ledger = pipeline.Services.GetRequiredService<IDeploymentLedger>();
        await Eventually.TrueAsync(async () => pipeline.Deployments().Count == 1 &&
            await ledger.FindDeploymentAsync("Codertocat/Hello-World", "production", pipeline.Deployments()[0].Id, CancellationToken.None) is { State: LedgerState.HandedOff, RunId: not null },
            "the run found and recorded");
        long runId;
        lock (pipeline.GitHub.State.Gate)
        {
            runId = Assert.Single(pipeline.GitHub.State.WorkflowRuns).Id;
        }

        pipeline.GitHub.CompleteRun(runId, "failure"); // the workflow crashed before any status of its own
        await Eventually.TrueAsync(() => pipeline.StatesOf(pipeline.Deployments()[0]).Contains("failure"), "the run's end settles it");
        Assert.Single(Dispatches(pipeline));
        lock (pipeline.GitHub.State.Gate)
        {
            Assert.EndsWith($"/actions/runs/{runId}", pipeline.Deployments()[0].Statuses.Last().LogUrl, StringComparison.Ordinal);
        }
    }

    private static List<RecordedRequest> Dispatches(Support.Pipeline pipeline) =>
        [.. pipeline.GitHub.State.Requests.Where(r => r.Path.EndsWith("/dispatches", StringComparison.Ordinal))];

    [Fact]
    public async Task GitHub_actions_provider_dispatches_and_leaves_the_final_status_to_the_workflow()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, settings =>
        {
            settings["Environments:production:Provider"] = "github-actions";
            settings["Environments:production:Workflow"] = "deploy.yml";
        });

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", Merged()));

        await Eventually.TrueAsync(() => pipeline.GitHub.State.Requests.Any(r => r.Path.EndsWith("/dispatches", StringComparison.Ordinal)), "the dispatch");
        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1 && pipeline.StatesOf(pipeline.Deployments()[0]).Count == 1, "in_progress");
        await Task.Delay(500);
        Assert.Equal(["in_progress"], pipeline.StatesOf(pipeline.Deployments()[0]));
        var dispatch = JsonNode.Parse(pipeline.GitHub.State.Requests.Single(r => r.Path.EndsWith("/dispatches", StringComparison.Ordinal)).Body)!;
        Assert.Equal("master", (string?)dispatch["ref"]);
        lock (pipeline.GitHub.State.Gate)
        {
            Assert.EndsWith("/Codertocat/Hello-World/actions/workflows/deploy.yml", pipeline.Deployments()[0].Statuses[0].LogUrl, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_deployment_whose_delivery_ends_in_poison_is_left_in_error_not_hanging()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, settings => settings["Retry:MaxAttempts"] = "1");
        pipeline.GitHub.State.AddFault(new Fault("POST", "/statuses", 502, """{"message":"Bad Gateway"}"""));
        pipeline.GitHub.State.AddFault(new Fault("POST", "/statuses", 502, """{"message":"Bad Gateway"}"""));

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", Merged()));

        await Eventually.TrueAsync(() => pipeline.PoisonCountAsync("deployments").Result == 1, "the deployment delivery in poison");
        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1 && pipeline.StatesOf(pipeline.Deployments()[0]).Contains("error"), "error status");
        Assert.Equal(["error"], pipeline.StatesOf(pipeline.Deployments()[0]));
    }

    /// <summary>DERIVED from GitHub's real closed example: merged into the default branch.</summary>
    private static JsonObject Merged()
    {
        var merged = WebhookExamples.DerivedMergedPullRequest();
        merged["pull_request"]!["base"]!["ref"] = (string?)merged["repository"]!["default_branch"];
        merged["pull_request"]!["labels"] = new JsonArray();
        return merged;
    }
}
