using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FunctionsHostHarness;
using GitHubStandIn;
using HostBench;
using static HostBench.Kit;

// Cold start and end-to-end latency of the real worker under the host harness, on a real Azurite and the GitHub stand-in.
//   cold start: a fresh worker process to the first answered signed webhook, median of --starts fresh starts, for the app
//               and a minimal isolated HTTP app, each as built (JIT) and published ReadyToRun;
//   commands: --commands pull request comments (.lock --details), one every 2.5 s so the queue listener is at its idle
//             polling interval, accepted (202) -> eyes reaction posted, and -> reply posted;
//   e2e: --merges merged pull requests, one repository each, accepted (202) -> deployment created -> success with the
//        simulated provider at 0 s, through the WebJobs queue listener with the app's host.json; and GitHub calls per
//        deployment, counted at the stand-in.
//   calls: GitHub calls per deployment and per .deploy command once warm, all and those that count against the rate limit;
//   --org: an organization's load instead (see OrgLoad): --repositories 100, --org-merges 500, --org-commands 200 over
//          --over 60 s, with one worker process and then two (--processes 1,2), the primary limit scaled to --rate-limit
//          calls per --rate-window seconds; exits 1 when an invariant breaks.
//   --previews: preview environments instead (see PreviewLoad): --pushes 40 opens and pushes one every 2.5 s, accepted ->
//               deployment created and -> comment live, then each pull request closed -> comment removed.
// Ends with one JSON line. usage: HostBench --variants name=dir,... [--starts 10] [--merges 100] [--commands 40] [--org ...]
var root = FindRoot();
var starts = (int)Option("--starts", 10);
var merges = (int)Option("--merges", 100);
var commands = (int)Option("--commands", 40);
var confirmations = (int)Option("--confirmations", 10);
var variants = Value("--variants").Split(',').Select(v => v.Split('=', 2)).ToDictionary(v => v[0], v => v[1]);
var payload = File.ReadAllBytes(Path.Combine(root, "tools", "GitHubStandIn", "Examples", "pull_request.closed.merged.json"));

await using var azurite = await AzuriteProcess.StartAsync(Path.Combine(root, "node_modules", ".bin", "azurite"), AzuriteProcess.TestFlags);
var calls = await CallCount.MeasureAsync(variants["app"], azurite, payload, merges: 10, commands: 5);
Console.WriteLine($"calls once warm: {calls.PerDeployment} per deployment ({calls.RateLimitedPerDeployment} counted against the rate limit), " +
                  $"{calls.PerCommand} per .deploy ({calls.RateLimitedPerCommand} counted)");
if (args.Contains("--org"))
{
    return await OrgAsync();
}

if (args.Contains("--previews"))
{
    var previews = await PreviewLoad.RunAsync(variants["app"], azurite, (int)Option("--pushes", 40));
    Console.WriteLine($"previews over {previews.ToDeployment.Count} opens and pushes at idle polling: accepted -> deployment created p50 " +
                      $"{Percentile(previews.ToDeployment, 0.5):F0} ms, p99 {Percentile(previews.ToDeployment, 0.99):F0} ms; -> comment live p50 " +
                      $"{Percentile(previews.ToLive, 0.5):F0} ms, p99 {Percentile(previews.ToLive, 0.99):F0} ms; close -> comment removed p50 " +
                      $"{Percentile(previews.ToRemoved, 0.5):F0} ms; GitHub calls per push once live {previews.CallsPerPush:F1}");
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        preview_created_p50_ms = Math.Round(Percentile(previews.ToDeployment, 0.5)),
        preview_created_p99_ms = Math.Round(Percentile(previews.ToDeployment, 0.99)),
        preview_live_p50_ms = Math.Round(Percentile(previews.ToLive, 0.5)),
        preview_live_p99_ms = Math.Round(Percentile(previews.ToLive, 0.99)),
        preview_removed_p50_ms = Math.Round(Percentile(previews.ToRemoved, 0.5)),
        preview_github_calls_per_push = Math.Round(previews.CallsPerPush, 1),
    }));
    return 0;
}

var cold = new Dictionary<string, double>();
var samples = variants.Keys.ToDictionary(k => k, _ => new List<double>());
for (var round = 0; round < starts; round++)
{
    foreach (var (name, directory) in variants) // interleaved, so drift in the machine hits every variant alike
    {
        samples[name].Add(await ColdStartAsync(directory));
    }
}

foreach (var (name, values) in samples)
{
    cold[name] = Median(values);
    Console.WriteLine($"cold start {name}: median {cold[name]:F0} ms, starts [{string.Join(", ", values.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)))}]");
}

var (p50, p99, callsPerDeployment) = await EndToEndAsync(variants["app"]);
Console.WriteLine($"e2e over {merges} merges (each a repository's first): p50 {p50:F0} ms, p99 {p99:F0} ms; GitHub calls per deployment {callsPerDeployment:F2}");

var (eyesP50, eyesP99, replyP50, replyP99) = await CommandsAsync(variants["app"]);
Console.WriteLine($"commands over {commands} comments at idle polling: accepted -> eyes p50 {eyesP50:F0} ms, p99 {eyesP99:F0} ms; -> reply p50 {replyP50:F0} ms, p99 {replyP99:F0} ms");

var (questionP50, confirmedP50, confirmedP99) = await ConfirmationsAsync(variants["app"]);
Console.WriteLine($"deployment confirmation over {confirmations} .deploy: accepted -> question p50 {questionP50:F0} ms; thumbs-up -> deployment created p50 {confirmedP50:F0} ms, p99 {confirmedP99:F0} ms");

var app = cold.TryGetValue("app-r2r", out var readyToRun) && readyToRun < cold["app"] ? "app-r2r" : "app";
var baseline = app == "app-r2r" && cold.ContainsKey("minimal-r2r") ? "minimal-r2r" : "minimal";
Console.WriteLine(JsonSerializer.Serialize(new
{
    cold_start_ms = Math.Round(cold[app]),
    cold_start_variant = app,
    cold_start_ratio = Math.Round(cold[app] / cold[baseline], 3),
    cold_start = cold.ToDictionary(c => c.Key, c => Math.Round(c.Value)),
    e2e_p50_ms = Math.Round(p50),
    e2e_p99_ms = Math.Round(p99),
    github_calls_per_deployment = calls.PerDeployment,
    github_rate_limited_calls_per_deployment = calls.RateLimitedPerDeployment,
    command_github_calls = calls.PerCommand,
    command_rate_limited_github_calls = calls.RateLimitedPerCommand,
    e2e_github_calls_per_deployment_first_merge = Math.Round(callsPerDeployment, 2),
    command_eyes_p50_ms = Math.Round(eyesP50),
    command_eyes_p99_ms = Math.Round(eyesP99),
    command_reply_p50_ms = Math.Round(replyP50),
    command_reply_p99_ms = Math.Round(replyP99),
    confirmation_question_p50_ms = Math.Round(questionP50),
    confirmation_round_trip_p50_ms = Math.Round(confirmedP50),
    confirmation_round_trip_p99_ms = Math.Round(confirmedP99),
}));
return 0;

async Task<int> OrgAsync()
{
    var runs = new List<(int Processes, OrgLoadResult Result)>();
    foreach (var processes in Value("--processes", "1,2").Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture)))
    {
        var result = await OrgLoad.RunAsync(variants["app"], azurite, payload, new OrgLoadOptions(
            Repositories: (int)Option("--repositories", 100), Merges: (int)Option("--org-merges", 500), Commands: (int)Option("--org-commands", 200),
            Over: TimeSpan.FromSeconds(Option("--over", 60)), Processes: processes, RateLimit: (int)Option("--rate-limit", 800),
            RateWindow: TimeSpan.FromSeconds(Option("--rate-window", 20)), Deadline: TimeSpan.FromMinutes(10)));
        Console.WriteLine($"org with {processes} worker process(es): " + string.Join(", ", result.Figures.Select(f => $"{f.Key} {f.Value}")));
        foreach (var broken in result.Broken)
        {
            Console.WriteLine($"BROKEN with {processes} process(es): {broken}");
        }

        runs.Add((processes, result));
    }

    var figures = new Dictionary<string, object>(runs[0].Result.Figures)
    {
        ["github_calls_per_deployment"] = calls.PerDeployment,
        ["github_rate_limited_calls_per_deployment"] = calls.RateLimitedPerDeployment,
        ["command_github_calls"] = calls.PerCommand,
        ["command_rate_limited_github_calls"] = calls.RateLimitedPerCommand,
        ["org_processes"] = runs[0].Processes,
    };
    foreach (var (processes, result) in runs.Skip(1))
    {
        figures[$"org_{processes}_processes"] = result.Figures;
    }

    Console.WriteLine(JsonSerializer.Serialize(figures));
    return runs.Any(r => r.Result.Broken.Count > 0) ? 1 : 0;
}

async Task<double> ColdStartAsync(string directory)
{
    var clock = Stopwatch.StartNew();
    await using var host = await FunctionsHost.StartAsync(new HostOptions
    {
        AppDirectory = directory,
        WorkerAssembly = Directory.GetFiles(directory, "*.dll").Select(Path.GetFileName).Single(f => f is "DeployFunctions.dll" or "MinimalFunctionApp.dll")!,
        QueueTriggers = false,
        Settings = Settings(azurite.ConnectionString, "cold" + Guid.NewGuid().ToString("N")[..8], null),
    });
    var status = await DeliverAsync(host, "ping", Encoding.UTF8.GetBytes("""{"zen":"Keep it logically awesome.","hook_id":1}"""));
    var elapsed = clock.Elapsed.TotalMilliseconds;
    if (status != HttpStatusCode.OK)
    {
        throw new InvalidOperationException($"{directory} answered {status}:\n{host.WorkerOutput}");
    }

    return elapsed;
}

async Task<(double P50, double P99, double CallsPerDeployment)> EndToEndAsync(string directory)
{
    await using var gitHub = new StandInServer(new StandInOptions { WebhookSecret = Secret });
    await gitHub.StartAsync();
    await using var host = await FunctionsHost.StartAsync(new HostOptions
    {
        AppDirectory = directory,
        WorkerAssembly = "DeployFunctions.dll",
        Settings = Settings(azurite.ConnectionString, "e2e" + Guid.NewGuid().ToString("N")[..8], gitHub.BaseAddress),
    });
    gitHub.WebhookUrl = new Uri(host.BaseAddress, "api/github/webhooks");
    var accepted = new Dictionary<string, DateTimeOffset>();
    for (var i = 0; i < merges; i++)
    {
        var merged = JsonNode.Parse(payload)!;
        var name = $"Hello-World-{i}";
        merged["repository"]!["name"] = name;
        merged["repository"]!["full_name"] = $"Codertocat/{name}";
        merged["pull_request"]!["merge_commit_sha"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..40];
        var status = await DeliverAsync(host, "pull_request", Encoding.UTF8.GetBytes(merged.ToJsonString()));
        if (status != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"merge {i} answered {status}:\n{host.WorkerOutput}");
        }

        accepted[$"Codertocat/{name}"] = DateTimeOffset.UtcNow;
        await Task.Delay(100);
    }

    var deadline = DateTime.UtcNow.AddMinutes(5);
    while (Succeeded(gitHub).Count < merges && DateTime.UtcNow < deadline)
    {
        await Task.Delay(100);
    }

    var done = Succeeded(gitHub);
    if (done.Count < merges)
    {
        throw new InvalidOperationException($"{done.Count} of {merges} deployments succeeded within 5 minutes.\n{host.WorkerOutput}");
    }

    var latencies = done.Select(d => (d.At - accepted[d.Repository]).TotalMilliseconds).Order().ToList();
    var calls = gitHub.State.Requests.Count(r => !r.Path.StartsWith("/app/", StringComparison.Ordinal));
    return (Percentile(latencies, 0.50), Percentile(latencies, 0.99), (double)calls / merges);
}

async Task<(double EyesP50, double EyesP99, double ReplyP50, double ReplyP99)> CommandsAsync(string directory)
{
    await using var gitHub = new StandInServer(new StandInOptions { WebhookSecret = Secret });
    await gitHub.StartAsync();
    await using var host = await FunctionsHost.StartAsync(new HostOptions
    {
        AppDirectory = directory,
        WorkerAssembly = "DeployFunctions.dll",
        Settings = Settings(azurite.ConnectionString, "cmd" + Guid.NewGuid().ToString("N")[..8], gitHub.BaseAddress),
    });
    gitHub.WebhookUrl = new Uri(host.BaseAddress, "api/github/webhooks"); // our replies come back, and are ignored
    var repository = gitHub.State.Repository("octo", "app");
    var pull = gitHub.State.OpenPullRequest(repository, 7, new string('a', 40), author: "alice");
    gitHub.State.Permissions[("octo/app", "alice")] = "write";
    var sent = new List<(long CommentId, DateTimeOffset Accepted)>();
    for (var i = 0; i < commands; i++)
    {
        await Task.Delay(2500); // idle: the listener has backed off to its longest polling interval
        var comment = gitHub.State.AddComment(repository, pull.Number, "alice", "User", ".lock --details", DateTimeOffset.UtcNow);
        var status = await DeliverAsync(host, "issue_comment", Encoding.UTF8.GetBytes(gitHub.CommentPayload(pull, comment).ToJsonString()));
        if (status != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"command {i} answered {status}:\n{host.WorkerOutput}");
        }

        sent.Add((comment.Id, DateTimeOffset.UtcNow));
    }

    var deadline = DateTime.UtcNow.AddMinutes(2);
    while (Replies(gitHub).Count < commands && DateTime.UtcNow < deadline)
    {
        await Task.Delay(100);
    }

    var replies = Replies(gitHub);
    if (replies.Count < commands)
    {
        throw new InvalidOperationException($"{replies.Count} of {commands} commands were answered within 2 minutes.\n{host.WorkerOutput}");
    }

    List<(long CommentId, DateTimeOffset At)> eyes;
    lock (gitHub.State.Gate)
    {
        eyes = [.. gitHub.State.Reactions.Where(r => r.Content == "eyes").Select(r => (r.CommentId, r.CreatedAt))];
    }

    var toEyes = sent.Select(s => (eyes.Single(e => e.CommentId == s.CommentId).At - s.Accepted).TotalMilliseconds).Order().ToList();
    var toReply = sent.Select(s => (replies[s.CommentId] - s.Accepted).TotalMilliseconds).Order().ToList();
    return (Percentile(toEyes, 0.50), Percentile(toEyes, 0.99), Percentile(toReply, 0.50), Percentile(toReply, 0.99));
}

// Deployment confirmation: a .deploy to production asks first; the thumbs-up is read by polling (GitHub sends no webhook for
// reactions, Commands__DeploymentConfirmationPollSeconds at its default). Measured: accepted -> question posted, and
// thumbs-up -> deployment created.
async Task<(double QuestionP50, double ConfirmedP50, double ConfirmedP99)> ConfirmationsAsync(string directory)
{
    await using var gitHub = new StandInServer(new StandInOptions { WebhookSecret = Secret });
    await gitHub.StartAsync();
    var settings = Settings(azurite.ConnectionString, "cnf" + Guid.NewGuid().ToString("N")[..8], gitHub.BaseAddress);
    settings["Commands__DeploymentConfirmation"] = "production";
    await using var host = await FunctionsHost.StartAsync(new HostOptions { AppDirectory = directory, WorkerAssembly = "DeployFunctions.dll", Settings = settings });
    gitHub.WebhookUrl = new Uri(host.BaseAddress, "api/github/webhooks");
    var repository = gitHub.State.Repository("octo", "app");
    var pull = gitHub.State.OpenPullRequest(repository, 7, new string('a', 40), author: "alice");
    gitHub.State.Permissions[("octo/app", "alice")] = "write";
    gitHub.State.Permissions[("octo/app", "bob")] = "write";
    gitHub.State.Review(pull, "bob", "APPROVED");
    gitHub.State.Branches[("octo/app", "main")] = new string('b', 40);
    var toQuestion = new List<double>();
    var toDeployment = new List<double>();
    for (var i = 0; i < confirmations; i++)
    {
        await Task.Delay(2500);
        var comment = gitHub.State.AddComment(repository, pull.Number, "alice", "User", ".deploy", DateTimeOffset.UtcNow);
        var status = await DeliverAsync(host, "issue_comment", Encoding.UTF8.GetBytes(gitHub.CommentPayload(pull, comment).ToJsonString()));
        var accepted = DateTimeOffset.UtcNow;
        if (status != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"confirmation {i} answered {status}:\n{host.WorkerOutput}");
        }

        var question = await UntilAsync(() => gitHub.State.CommentsOn("octo/app", 7)
            .FirstOrDefault(c => c.Body.Contains($"deployfunctions:confirm:{comment.Id}:", StringComparison.Ordinal)), host);
        toQuestion.Add((question.CreatedAt - accepted).TotalMilliseconds);
        var before = gitHub.State.Deployments.Count;
        await Task.Delay(Random.Shared.Next(0, 2000)); // a person reacts at any moment of the poll
        var reacted = gitHub.State.React(question.Id, "alice", "+1").CreatedAt;
        var created = await UntilAsync(() => { lock (gitHub.State.Gate) { return gitHub.State.Deployments.Count > before ? gitHub.State.Deployments[^1] : null; } }, host);
        toDeployment.Add((created.CreatedAt - reacted).TotalMilliseconds);
    }

    toDeployment.Sort();
    return (Median(toQuestion), Percentile(toDeployment, 0.50), Percentile(toDeployment, 0.99));
}

double Option(string name, double fallback) =>
    Array.IndexOf(args, name) is var at and >= 0 ? double.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;

string Value(string name, string? fallback = null) =>
    Array.IndexOf(args, name) is var at and >= 0 ? args[at + 1] : fallback ?? throw new ArgumentException($"{name} is required");

static string FindRoot()
{
    var directory = new DirectoryInfo(AppContext.BaseDirectory);
    while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "DeployFunctions.sln")))
    {
        directory = directory.Parent;
    }

    return directory?.FullName ?? throw new InvalidOperationException("Run from inside the repository.");
}
