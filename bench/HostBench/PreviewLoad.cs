using System.Net;
using System.Text;
using FunctionsHostHarness;
using GitHubStandIn;
using static HostBench.Kit;

namespace HostBench;

/// <summary>
/// Previews through the real worker: one repository with <c>previews:</c> on a simulated target (0 s), pull requests opened
/// and pushed to one every 2.5 s (the queue listener at its idle polling interval); measured: the push accepted (202) -> the
/// preview's deployment created, and -> the comment saying it is live. Then the pull requests are closed: accepted -> the
/// comment saying it was removed.
/// </summary>
internal static class PreviewLoad
{
    public sealed record Result(List<double> ToDeployment, List<double> ToLive, List<double> ToRemoved, double CallsPerPush);

    public static async Task<Result> RunAsync(string directory, AzuriteProcess azurite, int pushes)
    {
        await using var gitHub = new StandInServer(new StandInOptions { WebhookSecret = Secret });
        await gitHub.StartAsync();
        var settings = Settings(azurite.ConnectionString, "prv" + Guid.NewGuid().ToString("N")[..8], gitHub.BaseAddress);
        settings["PreviewTable"] = settings["LedgerTable"].Replace("Ledger", "Previews", StringComparison.Ordinal);
        settings["Previews__Enabled"] = "true";
        settings["Targets__previews__Provider"] = "simulated";
        settings["Targets__previews__DelaySeconds"] = "0";
        settings["Targets__previews__Repositories"] = "octo/*";
        await using var host = await FunctionsHost.StartAsync(new HostOptions { AppDirectory = directory, WorkerAssembly = "DeployFunctions.dll", Settings = settings });
        gitHub.WebhookUrl = new Uri(host.BaseAddress, "api/github/webhooks"); // the app's deployments and statuses come back, as on GitHub
        var repository = gitHub.State.Repository("octo", "app");
        gitHub.State.Files[("octo/app", ".github/deployfunctions.yml")] = "previews:\n  target: previews\n  url: https://pr-{number}.preview.example.com\n";

        var pulls = Enumerable.Range(1, Math.Max(1, pushes / 4))
            .Select(n => gitHub.State.OpenPullRequest(repository, n, Sha(n, 0), author: "alice"))
            .ToList();
        var toDeployment = new List<double>();
        var toLive = new List<double>();
        var requestsBefore = 0;
        for (var i = 0; i < pushes; i++)
        {
            await Task.Delay(2500);
            var pull = pulls[i % pulls.Count];
            var round = i / pulls.Count;
            var sha = Sha(pull.Number, round);
            if (i == pulls.Count)
            {
                requestsBefore = gitHub.State.Requests.Count; // from here on, pushes to live previews
            }

            var accepted = DateTimeOffset.UtcNow;
            if (round == 0)
            {
                await DeliverAsync(host, gitHub.PullRequestPayload(pull, "opened", "alice"));
            }
            else
            {
                JsonNodePayload(gitHub, pull, sha, out var payload);
                await DeliverAsync(host, payload);
            }

            var created = await UntilAsync(() => Deployment(gitHub, sha), host);
            toDeployment.Add((created.CreatedAt - accepted).TotalMilliseconds);
            var live = await UntilAsync(() => LiveComment(gitHub, pull.Number, sha), host);
            toLive.Add(((live.UpdatedAt ?? live.CreatedAt) - accepted).TotalMilliseconds);
        }

        var callsPerPush = pushes > pulls.Count ? (double)(gitHub.State.Requests.Count - requestsBefore) / (pushes - pulls.Count) : 0;
        var toRemoved = new List<double>();
        foreach (var pull in pulls)
        {
            await Task.Delay(2500);
            var accepted = DateTimeOffset.UtcNow;
            gitHub.Close(pull, deliver: false);
            await DeliverAsync(host, gitHub.PullRequestPayload(pull, "closed", "alice"));
            var removed = await UntilAsync(() => Comment(gitHub, pull.Number) is { } c && c.Body.Contains("Removed", StringComparison.Ordinal) ? c : null, host);
            toRemoved.Add(((removed.UpdatedAt ?? removed.CreatedAt) - accepted).TotalMilliseconds);
        }

        toDeployment.Sort();
        toLive.Sort();
        toRemoved.Sort();
        return new Result(toDeployment, toLive, toRemoved, callsPerPush);
    }

    private static void JsonNodePayload(StandInServer gitHub, StandInPullRequest pull, string sha, out System.Text.Json.Nodes.JsonObject payload)
    {
        string before;
        lock (gitHub.State.Gate)
        {
            before = pull.HeadSha;
            pull.HeadSha = sha;
            pull.UpdatedAt = DateTimeOffset.UtcNow;
        }

        payload = gitHub.PullRequestPayload(pull, "synchronize", "alice", before, sha);
    }

    private static async Task DeliverAsync(FunctionsHost host, System.Text.Json.Nodes.JsonObject payload)
    {
        var status = await Kit.DeliverAsync(host, "pull_request", Encoding.UTF8.GetBytes(payload.ToJsonString()));
        if (status != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"a pull_request delivery answered {status}:\n{host.WorkerOutput}");
        }
    }

    private static string Sha(long number, int round) => $"{number:x4}{round:x4}".PadRight(40, 'a');

    private static StandInDeployment? Deployment(StandInServer gitHub, string sha)
    {
        lock (gitHub.State.Gate)
        {
            return gitHub.State.Deployments.FirstOrDefault(d => d.Sha == sha);
        }
    }

    private static StandInComment? Comment(StandInServer gitHub, long number) =>
        gitHub.State.CommentsOn("octo/app", number).FirstOrDefault(c => c.UserType == "Bot" && c.Body.Contains("Preview `pr-", StringComparison.Ordinal));

    private static StandInComment? LiveComment(StandInServer gitHub, long number, string sha) =>
        Comment(gitHub, number) is { } c && c.Body.Contains("✅ Live", StringComparison.Ordinal) && c.Body.Contains($"`{sha[..7]}`", StringComparison.Ordinal) ? c : null;
}
