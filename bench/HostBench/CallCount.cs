using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using FunctionsHostHarness;
using GitHubStandIn;
using static HostBench.Kit;

namespace HostBench;

/// <summary>GitHub calls, counted at the stand-in, per deployment and per command once the app is warm (one at a time).</summary>
internal sealed record CallCounts(double PerDeployment, double RateLimitedPerDeployment, double PerCommand, double RateLimitedPerCommand);

internal static class CallCount
{
    /// <summary>
    /// <paramref name="merges"/> merges into one repository, each waited for (deployment, in_progress, success, the status
    /// logged), then <paramref name="commands"/> <c>.deploy to staging</c> comments, each waited for until its reply. The
    /// first merge and the first command warm the caches and are not counted: what is counted is what every later one costs.
    /// </summary>
    public static async Task<CallCounts> MeasureAsync(string appDirectory, AzuriteProcess azurite, byte[] mergePayload, int merges, int commands)
    {
        await using var gitHub = new StandInServer(new StandInOptions { WebhookSecret = Secret });
        await gitHub.StartAsync();
        var settings = Settings(azurite.ConnectionString, "calls" + Guid.NewGuid().ToString("N")[..8], gitHub.BaseAddress);
        settings["Environments__staging__Provider"] = "simulated";
        settings["Environments__staging__DelaySeconds"] = "0";
        await using var host = await FunctionsHost.StartAsync(new HostOptions { AppDirectory = appDirectory, WorkerAssembly = "DeployFunctions.dll", Settings = settings });
        gitHub.WebhookUrl = new Uri(host.BaseAddress, "api/github/webhooks");
        var state = gitHub.State;
        var repository = state.Repository("Codertocat", "Hello-World", "master");

        var merged = new List<(int All, int Counted)>();
        for (var i = 0; i <= merges; i++)
        {
            var sha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"quiet-{i}")))[..40];
            var payload = JsonNode.Parse(mergePayload)!;
            payload["pull_request"]!["merge_commit_sha"] = sha;
            payload["pull_request"]!["number"] = 1 + i;
            payload["number"] = 1 + i;
            merged.Add(await CountAsync(state, async () =>
            {
                await AcceptAsync(host, "pull_request", payload);
                await UntilAsync(() => Logged(state, sha), $"merge {i} deployed and its status logged", host);
            }));
        }

        var pull = state.OpenPullRequest(repository, 9000, new string('c', 40), author: "alice", baseRef: "master");
        state.Permissions[(repository.FullName, "alice")] = "write";
        state.Permissions[(repository.FullName, "carol")] = "write";
        state.Review(pull, "carol", "APPROVED"); // Commands__RequireApproval is on by default
        var commanded = new List<(int All, int Counted)>();
        for (var i = 0; i <= commands; i++)
        {
            commanded.Add(await CountAsync(state, async () =>
            {
                var comment = state.AddComment(repository, pull.Number, "alice", "User", ".deploy to staging", DateTimeOffset.UtcNow);
                await AcceptAsync(host, "issue_comment", gitHub.CommentPayload(pull, comment));
                await UntilAsync(() => Replies(state).ContainsKey(comment.Id), $"command {i} answered", host);
            }));
        }

        static double Mean(IEnumerable<int> values) => Math.Round(values.Skip(1).DefaultIfEmpty(0).Average(), 2);
        return new CallCounts(Mean(merged.Select(m => m.All)), Mean(merged.Select(m => m.Counted)),
            Mean(commanded.Select(c => c.All)), Mean(commanded.Select(c => c.Counted)));
    }

    /// <summary>The calls made while <paramref name="work"/> ran and in the half second after (anything late shows).</summary>
    private static async Task<(int All, int Counted)> CountAsync(StandInState state, Func<Task> work)
    {
        var before = state.Requests.Count;
        await work();
        await Task.Delay(500);
        var calls = state.Requests.Skip(before).Where(r => !r.Path.StartsWith("/app/", StringComparison.Ordinal)).ToList();
        return (calls.Count, calls.Count(c => c.Status != 304));
    }

    private static bool Logged(StandInState state, string sha)
    {
        lock (state.Gate)
        {
            return state.Deployments.Any(d => d.Sha == sha && d.Statuses.Any(s => s.State == "success"));
        }
    }

    private static async Task UntilAsync(Func<bool> done, string what, FunctionsHost host)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!done())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"timed out waiting for {what}:\n{host.WorkerOutput}");
            }

            await Task.Delay(50);
        }
    }
}
