using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using FunctionsHostHarness;
using GitHubStandIn;
using static HostBench.Kit;

namespace HostBench;

/// <summary>
/// An organization's load through the real worker: merges into many repositories and chat commands on their pull requests,
/// arriving together over about a minute, against one Azurite and the GitHub stand-in with GitHub's secondary limit (100
/// requests in flight per credentials) and a primary limit scaled down so the run reaches it. One or more worker processes
/// share the queues, the ledger, the locks and the rate gate's Table row, as Flex Consumption instances do. What it checks
/// (any failure exits non-zero): no merge lost, none deployed twice, every repository's production ends at its newest
/// merge, no two runs of one environment overlap, and no request reaches GitHub after a refusal before the time GitHub gave.
/// </summary>
internal sealed record OrgLoadOptions(
    int Repositories, int Merges, int Commands, TimeSpan Over, int Processes, int RateLimit, TimeSpan RateWindow, TimeSpan Deadline);

internal sealed record OrgLoadResult(IReadOnlyDictionary<string, object> Figures, IReadOnlyList<string> Broken);

internal static class OrgLoad
{
    private const string Owner = "Codertocat";

    private static readonly string[] QueueSuffixes = ["-pull-requests", "-deployments", "-deployment-statuses", "-commands"];

    public static async Task<OrgLoadResult> RunAsync(string appDirectory, AzuriteProcess azurite, byte[] mergePayload, OrgLoadOptions options)
    {
        await using var gitHub = new StandInServer(new StandInOptions
        {
            WebhookSecret = Secret,
            RateLimit = options.RateLimit,
            RateLimitWindow = options.RateWindow,
            MaxConcurrentRequests = 100, // GitHub's secondary limit on concurrent requests
        });
        await gitHub.StartAsync();
        var prefix = "org" + Guid.NewGuid().ToString("N")[..8];
        var settings = Settings(azurite.ConnectionString, prefix, gitHub.BaseAddress);
        settings["Environments__staging__Provider"] = "simulated";
        settings["Environments__staging__DelaySeconds"] = "0";
        var hosts = new List<FunctionsHost>();
        try
        {
            for (var i = 0; i < options.Processes; i++)
            {
                hosts.Add(await FunctionsHost.StartAsync(new HostOptions { AppDirectory = appDirectory, WorkerAssembly = "DeployFunctions.dll", Settings = settings }));
            }

            gitHub.WebhookUrl = new Uri(hosts[0].BaseAddress, "api/github/webhooks"); // GitHub's own events (deployment, statuses) come back
            return await LoadAsync(gitHub, hosts, azurite, prefix, mergePayload, options);
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.DisposeAsync();
            }
        }
    }

    private static async Task<OrgLoadResult> LoadAsync(
        StandInServer gitHub, List<FunctionsHost> hosts, AzuriteProcess azurite, string prefix, byte[] mergePayload, OrgLoadOptions options)
    {
        var state = gitHub.State;
        var pulls = new StandInPullRequest[options.Repositories];
        for (var r = 0; r < options.Repositories; r++)
        {
            var repository = state.Repository(Owner, Name(r), "master"); // the example payload merges into master
            pulls[r] = state.OpenPullRequest(repository, 100_000 + r, Sha($"command-head-{r}"), author: "alice", baseRef: "master");
            state.Permissions[(repository.FullName, "alice")] = "write";
            state.Permissions[(repository.FullName, "carol")] = "write";
            state.Review(pulls[r], "carol", "APPROVED"); // Commands__RequireApproval is on by default
        }

        // The arrivals: merges round-robin over the repositories (so one repository's merges are seconds apart: GitHub's
        // merged_at, which orders them, has one-second precision), with the commands (.deploy to staging, .lock staging) on
        // each repository's open pull request put among them at random (a fixed seed), all spread evenly over the minute.
        var arrivals = Enumerable.Range(0, options.Merges).Select(m => (Repository: m % options.Repositories, Merge: m, Command: (string?)null)).ToList();
        var random = new Random(20261129);
        for (var c = 0; c < options.Commands; c++)
        {
            arrivals.Insert(random.Next(arrivals.Count + 1), (c % options.Repositories, -1, c % 2 == 0 ? ".deploy to staging" : ".lock staging --reason org bench"));
        }

        var merges = options.Merges;
        var shuffled = arrivals;
        var newest = new Dictionary<string, string>(StringComparer.Ordinal);
        var mergeAccepted = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var commandAccepted = new Dictionary<long, DateTimeOffset>();
        var queues = new QueueServiceClient(azurite.ConnectionString);
        using var stop = new CancellationTokenSource();
        var peak = WatchQueuesAsync(queues, prefix, stop.Token);

        var requestsBefore = state.Requests.Count;
        var clock = Stopwatch.StartNew();
        var started = DateTimeOffset.UtcNow;
        var gap = options.Over / Math.Max(1, shuffled.Count);
        var sent = 0;
        var redelivered = 0;
        foreach (var (repository, merge, command) in shuffled)
        {
            var host = hosts[sent % hosts.Count];
            var wait = gap * sent - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            sent++;
            if (command is null)
            {
                var name = Name(repository);
                var sha = Sha($"merge-{merge}");
                var merged = JsonNode.Parse(mergePayload)!;
                merged["repository"]!["name"] = name;
                merged["repository"]!["full_name"] = $"{Owner}/{name}";
                merged["repository"]!["id"] = state.Repository(Owner, name).Id;
                merged["pull_request"]!["number"] = 1 + merge;
                merged["number"] = 1 + merge;
                merged["pull_request"]!["merge_commit_sha"] = sha;
                var mergedAt = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
                merged["pull_request"]!["merged_at"] = mergedAt;
                merged["pull_request"]!["closed_at"] = mergedAt;
                redelivered += await AcceptAsync(host, "pull_request", merged);
                newest[$"{Owner}/{name}"] = sha;
                mergeAccepted[sha] = DateTimeOffset.UtcNow;
            }
            else
            {
                var pull = pulls[repository];
                var comment = state.AddComment(pull.Repository, pull.Number, "alice", "User", command, DateTimeOffset.UtcNow);
                redelivered += await AcceptAsync(host, "issue_comment", gitHub.CommentPayload(pull, comment));
                commandAccepted[comment.Id] = DateTimeOffset.UtcNow;
            }
        }

        var sentIn = clock.Elapsed;
        var deadline = DateTime.UtcNow + options.Deadline;
        var reported = clock.Elapsed;
        while (DateTime.UtcNow < deadline && !Settled(state, newest, commandAccepted.Count))
        {
            await Task.Delay(250);
            if (clock.Elapsed - reported > TimeSpan.FromSeconds(15))
            {
                reported = clock.Elapsed;
                Console.WriteLine($"  {clock.Elapsed.TotalSeconds:F0} s: {Progress(state, newest, commandAccepted.Count)}");
            }
        }

        var settledIn = clock.Elapsed;
        await Task.Delay(2000); // anything late (a doubled deployment, a second run) would show
        await stop.CancelAsync();
        var peakQueue = await peak;
        return Measure(state, requestsBefore, started, sentIn, settledIn, newest, mergeAccepted, commandAccepted, merges, peakQueue, redelivered);
    }

    private static OrgLoadResult Measure(
        StandInState state, int requestsBefore, DateTimeOffset started, TimeSpan sentIn, TimeSpan settledIn, Dictionary<string, string> newest,
        Dictionary<string, DateTimeOffset> mergeAccepted, Dictionary<long, DateTimeOffset> commandAccepted, int merges, int peakQueue,
        int redelivered)
    {
        List<StandInDeployment> deployments;
        lock (state.Gate)
        {
            deployments = [.. state.Deployments];
        }

        var statuses = deployments.ToDictionary(d => d.Id, d =>
        {
            lock (state.Gate)
            {
                return d.Statuses.ToList();
            }
        });
        var production = deployments.Where(d => d.Environment == "production").ToList();
        var terminal = new HashSet<string>(StringComparer.Ordinal) { "success", "failure", "error", "inactive" };

        // Lost: a merge with no deployment that came to an end (success, failure, error, or inactive when a newer one won).
        var lost = mergeAccepted.Keys.Count(sha => !production.Any(d => d.Sha == sha && statuses[d.Id].Any(s => terminal.Contains(s.State))));
        // Doubled: two deployments of one merge, or two of one command.
        var doubled = production.GroupBy(d => (d.Repository.FullName, d.Sha)).Sum(g => g.Count() - 1) +
                      deployments.Where(d => d.Environment == "staging").GroupBy(d => (d.Repository.FullName, (string?)d.Request["payload"]?["comment_id"])).Sum(g => g.Count() - 1);
        // Not newest: a repository whose production did not end at its newest merge.
        var details = new List<string>();
        var notNewest = 0;
        foreach (var (repository, sha) in newest)
        {
            var mine = production.Where(d => d.Repository.FullName == repository).ToList();
            if (mine.Where(d => statuses[d.Id].Any(s => s.State == "success")).MaxBy(d => statuses[d.Id].First(s => s.State == "success").CreatedAt)?.Sha != sha)
            {
                notNewest++;
                details.Add($"{repository} production did not end at its newest merge {sha[..7]}:\n{Timeline(mine, statuses)}");
            }
        }

        // Overlapping: two runs of one environment at once (from in_progress to the end).
        var overlapping = 0;
        foreach (var environment in deployments.GroupBy(d => (d.Repository.FullName, d.Environment)))
        {
            var runs = environment
                .Select(d => statuses[d.Id])
                .Where(s => s.Any(x => x.State == "in_progress"))
                .Select(s => (Start: s.First(x => x.State == "in_progress").CreatedAt,
                              End: s.FirstOrDefault(x => terminal.Contains(x.State))?.CreatedAt ?? DateTimeOffset.MaxValue))
                .OrderBy(r => r.Start)
                .ToList();
            var overlaps = runs.Zip(runs.Skip(1)).Count(pair => pair.Second.Start < pair.First.End);
            overlapping += overlaps;
            if (overlaps > 0)
            {
                details.Add($"overlapping runs in {environment.Key}:\n{Timeline(environment, statuses)}");
            }
        }

        var successes = production.Select(d => (d.Sha, At: statuses[d.Id].FirstOrDefault(s => s.State == "success")?.CreatedAt))
            .Where(s => s.At is not null && mergeAccepted.ContainsKey(s.Sha))
            .Select(s => (s.At!.Value - mergeAccepted[s.Sha]).TotalMilliseconds).Order().ToList();
        var replies = Replies(state);
        var toReply = commandAccepted.Where(c => replies.ContainsKey(c.Key)).Select(c => (replies[c.Key] - c.Value).TotalMilliseconds).Order().ToList();
        var calls = state.Requests.Skip(requestsBefore).Where(r => !r.Path.StartsWith("/app/", StringComparison.Ordinal)).ToList();
        var succeeded = deployments.Count(d => statuses[d.Id].Any(s => s.State == "success"));
        var lastSuccess = deployments.SelectMany(d => statuses[d.Id]).Where(s => s.State == "success").Select(s => s.CreatedAt).DefaultIfEmpty(started).Max();

        var broken = new List<string>();
        void Check(bool ok, string what)
        {
            if (!ok)
            {
                broken.Add(what);
            }
        }

        Check(lost == 0, $"{lost} merges lost");
        Check(doubled == 0, $"{doubled} deployments doubled");
        Check(notNewest == 0, $"{notNewest} repositories did not end at their newest merge");
        Check(overlapping == 0, $"{overlapping} overlapping runs");
        Check(state.RequestsBeforeReset == 0, $"{state.RequestsBeforeReset} requests after a refusal before its reset");
        Check(toReply.Count == commandAccepted.Count, $"{commandAccepted.Count - toReply.Count} commands never answered");

        foreach (var line in details)
        {
            Console.WriteLine(line);
        }

        // A refusal for a rate limit: what led up to it (the last requests before the first one, with their answers).
        var all = state.Requests.Skip(requestsBefore).ToList();
        if (all.FindIndex(r => r.Status is 403 or 429) is var refused and >= 0)
        {
            foreach (var r in all.Skip(Math.Max(0, refused - 30)).Take(40))
            {
                Console.WriteLine($"  {r.At:HH:mm:ss.fff} {r.Method} {r.Path} {r.Status}");
            }
        }

        List<StandInComment> answers;
        lock (state.Gate)
        {
            answers = [.. state.Comments.Where(c => c.UserType == "Bot")];
        }

        // What the commands were answered, by the reply's first words (a refusal shows here).
        foreach (var kind in answers.GroupBy(a => string.Join(' ', a.Body.Split('\n').Skip(1).FirstOrDefault("").Split(' ').Take(2))))
        {
            var example = kind.First().Body.Split('\n').Skip(1).FirstOrDefault("");
            Console.WriteLine($"  replies '{kind.Key}...': {kind.Count()}, e.g. {example[..Math.Min(200, example.Length)]}");
        }

        return new OrgLoadResult(new Dictionary<string, object>
        {
            ["org_staging_deployments"] = deployments.Count(d => d.Environment == "staging"),
            ["org_repositories"] = newest.Count,
            ["org_merges"] = merges,
            ["org_commands"] = commandAccepted.Count,
            ["org_sent_s"] = Math.Round(sentIn.TotalSeconds, 1),
            ["org_settled_s"] = Math.Round(settledIn.TotalSeconds, 1),
            ["org_deployments_per_s"] = Math.Round(succeeded / Math.Max(0.001, (lastSuccess - started).TotalSeconds), 2),
            ["org_merge_p50_ms"] = Math.Round(Percentile(successes, 0.50)),
            ["org_merge_p99_ms"] = Math.Round(Percentile(successes, 0.99)),
            ["org_command_p50_ms"] = Math.Round(Percentile(toReply, 0.50)),
            ["org_command_p99_ms"] = Math.Round(Percentile(toReply, 0.99)),
            ["org_peak_queue_length"] = peakQueue,
            ["org_lost"] = lost,
            ["org_doubled"] = doubled,
            ["org_overlapping_runs"] = overlapping,
            ["org_not_newest"] = notNewest,
            ["org_requests_before_reset"] = state.RequestsBeforeReset,
            ["org_rate_limit_refusals"] = state.RateLimitRefusals,
            ["org_lowest_rate_remaining"] = state.LowestRemaining,
            ["org_redelivered_after_5xx"] = redelivered,
            ["org_github_calls_per_deployment"] = Math.Round((double)calls.Count / Math.Max(1, deployments.Count), 2),
            ["org_github_rate_limited_calls_per_deployment"] = Math.Round((double)calls.Count(c => c.Status != 304) / Math.Max(1, deployments.Count), 2),
        }, broken);
    }

    private static string Timeline(IEnumerable<StandInDeployment> deployments, Dictionary<long, List<StandInStatus>> statuses) =>
        string.Join('\n', deployments.OrderBy(d => d.Id).Select(d =>
            $"  {d.Id} {d.Sha[..7]} {d.Environment} {d.Task}: " +
            string.Join(", ", statuses[d.Id].Select(s => $"{s.State}@{s.CreatedAt:HH:mm:ss.fff}"))));

    /// <summary>Every merge's repository at its newest merge and every command answered, with nothing still running.</summary>
    private static bool Settled(StandInState state, Dictionary<string, string> newest, int commands)
    {
        lock (state.Gate)
        {
            var done = state.Deployments.All(d => d.Statuses.Any(s => s.State is "success" or "failure" or "error" or "inactive"));
            var atNewest = newest.All(n => state.Deployments.Any(d => d.Repository.FullName == n.Key && d.Sha == n.Value && d.Statuses.Any(s => s.State == "success")));
            return done && atNewest && Replies(state).Count >= commands;
        }
    }

    private static string Progress(StandInState state, Dictionary<string, string> newest, int commands)
    {
        lock (state.Gate)
        {
            var open = state.Deployments.Where(d => !d.Statuses.Any(s => s.State is "success" or "failure" or "error" or "inactive")).ToList();
            var atNewest = newest.Count(n => state.Deployments.Any(d => d.Repository.FullName == n.Key && d.Sha == n.Value && d.Statuses.Any(s => s.State == "success")));
            return $"{state.Deployments.Count} deployments, {open.Count} not ended " +
                   $"({string.Join(" ", open.Take(5).Select(d => $"{d.Repository.Name}/{d.Environment}:{string.Join(",", d.Statuses.Select(s => s.State))}"))}), " +
                   $"{atNewest}/{newest.Count} repositories at their newest merge, {Replies(state).Count}/{commands} commands answered, " +
                   $"{state.RateLimitRefusals} refusals";
        }
    }

    private static async Task<int> WatchQueuesAsync(QueueServiceClient queues, string prefix, CancellationToken stop)
    {
        var names = QueueSuffixes.Select(q => queues.GetQueueClient(prefix + q)).ToList();
        var peak = 0;
        while (!stop.IsCancellationRequested)
        {
            var total = 0;
            foreach (var queue in names)
            {
                try
                {
                    total += (await queue.GetPropertiesAsync(CancellationToken.None)).Value.ApproximateMessagesCount;
                }
                catch (Azure.RequestFailedException)
                {
                    // not created yet
                }
            }

            peak = Math.Max(peak, total);
            try
            {
                await Task.Delay(500, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return peak;
    }

    private static string Name(int repository) => $"org-{repository.ToString("D3", CultureInfo.InvariantCulture)}";

    private static string Sha(string seed) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(seed)))[..40];
}
