using System.Text.Json.Nodes;
using DeployFunctions.Tests.Support;

namespace DeployFunctions.Tests.Pipeline;

/// <summary>
/// The whole loop with every secret-bearing setting set to a value that is easy to find, logging everything at Trace:
/// no log line, ingress answer, deployment status, hook call or notification may contain any of them.
/// </summary>
public sealed class SecretLeakTests(Azurite azurite) : IClassFixture<Azurite>
{
    private const string Token = "ghp_LEAKCANARYtoken000000000000000000";
    private const string HookPathSecret = "LEAKCANARYhookpath";
    private const string HookQuerySecret = "LEAKCANARYhookquery";
    private const string HookSigningKey = "LEAKCANARY-hook-signing-key";
    private const string SlackPathSecret = "LEAKCANARYslackpath";

    [Fact]
    public async Task No_secret_appears_in_any_log_line_answer_status_or_outgoing_message()
    {
        var logs = new CapturedLogs();
        await using var hook = await RecordingServer.StartAsync();
        await using var slack = await RecordingServer.StartAsync();
        var hookUrl = new Uri(hook.Url, $"/deploy/{HookPathSecret}?key={HookQuerySecret}");
        var slackUrl = new Uri(slack.Url, $"/services/T0000/B0000/{SlackPathSecret}");
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, settings =>
        {
            settings["GitHub:Token"] = Token;
            settings["Environments:production:Provider"] = "http";
            settings["Environments:production:Url"] = hookUrl.ToString();
            settings["Environments:production:Secret"] = HookSigningKey;
            settings["Notifications:WebhookUrl"] = slackUrl.ToString();
        }, logs: logs);

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", Merged()));
        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", Merged("2222222222222222222222222222222222222222")));
        hook.Status = 500; // the second deployment fails: failure paths log too

        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 2 &&
                                         pipeline.Deployments().All(d => pipeline.StatesOf(d).Any(s => s is "success" or "failure" or "inactive")) &&
                                         !slack.Received.IsEmpty,
            "both deployments finished and were notified", TimeSpan.FromSeconds(60));
        await Eventually.TrueAsync(() => pipeline.HistoryAsync().Result.Count >= 3, "statuses recorded");

        Assert.Contains(logs.Lines, line => line.Contains("Information", StringComparison.Ordinal)); // the capture works
        var seen = new List<string>(logs.Lines);
        seen.AddRange(pipeline.Answers);
        seen.AddRange(hook.Received.Select(r => r.Body + string.Join(";", r.Headers.Select(h => $"{h.Key}={h.Value}"))));
        seen.AddRange(slack.Received.Select(r => r.Body));
        lock (pipeline.GitHub.State.Gate)
        {
            seen.AddRange(pipeline.Deployments().SelectMany(d => d.Statuses).Select(s => $"{s.Description} {s.LogUrl} {s.EnvironmentUrl}"));
        }

        foreach (var secret in new[] { Deliveries.Secret, Token, HookPathSecret, HookQuerySecret, HookSigningKey, SlackPathSecret })
        {
            var leaks = seen.Where(text => text.Contains(secret, StringComparison.Ordinal)).ToList();
            Assert.True(leaks.Count == 0, $"'{secret}' leaked in:\n{string.Join("\n", leaks.Take(3))}");
        }
    }

    private static JsonObject Merged(string sha = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c")
    {
        var merged = WebhookExamples.DerivedMergedPullRequest(sha);
        merged["pull_request"]!["base"]!["ref"] = (string?)merged["repository"]!["default_branch"];
        merged["pull_request"]!["labels"] = new JsonArray();
        return merged;
    }
}
