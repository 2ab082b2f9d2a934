using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DeployFunctions;
using DeployFunctions.Board;
using DeployFunctions.Commands;
using DeployFunctions.History;
using DeployFunctions.Ledger;
using FunctionsHostHarness;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// The deploy board's read path on a real Azurite: --repositories (50) x 3 environments x --days (90) of history, --per-day
// (1) deployments per environment per day (one in ten failing, one in twenty a rollback), recorded through the app's own
// TableDeployBoard as statuses would be, with --locks (10) locks, as many waiting merges and --marks (2000) notice marks in
// the lock table. Then --reads (30) times each: the board's data (every environment, one page), DORA's four keys of every
// repository's production over the whole window, of one repository's, and both at once as the page asks for them.
// Ends with one JSON line.
var repositories = (int)Option("--repositories", 50);
var days = (int)Option("--days", 90);
var perDay = (int)Option("--per-day", 1);
var lockCount = (int)Option("--locks", 10);
var marks = (int)Option("--marks", 2000);
var reads = (int)Option("--reads", 30);
string[] environments = ["production", "staging", "dev"];

var root = FindRoot();
await using var azurite = await AzuriteProcess.StartAsync(Path.Combine(root, "node_modules", ".bin", "azurite"), AzuriteProcess.TestFlags);
var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
{
    ["AzureWebJobsStorage"] = azurite.ConnectionString,
    ["Webhook:Secrets:0"] = "a-bench-secret-of-some-length",
    ["GitHub:Token"] = "bench-token",
    ["Deploy:Repositories"] = "*",
    ["Freezes:0:Reason"] = "weekend",
    ["Freezes:0:Cron"] = "0 18 * * 5",
    ["Freezes:0:Duration"] = "62h",
}).Build();
var services = new ServiceCollection().AddLogging(l => l.SetMinimumLevel(LogLevel.Warning)).AddSingleton<IConfiguration>(configuration)
    .AddDeployFunctions(configuration).BuildServiceProvider();
var board = services.GetRequiredService<IDeployBoard>();
var reader = services.GetRequiredService<BoardReader>();
var locks = services.GetRequiredService<IEnvironmentLocks>();

var now = DateTimeOffset.UtcNow;
var seeding = Stopwatch.StartNew();
var work = new List<(string Repository, string Environment)>();
for (var r = 0; r < repositories; r++)
{
    foreach (var environment in environments)
    {
        work.Add(($"org/service-{r:D3}", environment));
    }
}

var id = 0L;
await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = 24 }, async (pair, cancellationToken) =>
{
    for (var day = days - 1; day >= 0; day--)
    {
        for (var n = 0; n < perDay; n++)
        {
            var deploymentId = Interlocked.Increment(ref id);
            var finished = now.AddDays(-day).AddHours(-n - 1);
            var state = deploymentId % 10 == 0 ? LedgerState.Failed : LedgerState.Succeeded;
            var entry = new LedgerEntry
            {
                Repository = pair.Repository, Environment = pair.Environment, Sha = deploymentId.ToString("x40", CultureInfo.InvariantCulture),
                Ref = "r", BaseBranch = "main", Source = deploymentId % 3 == 0 ? LedgerSources.Command : LedgerSources.Merge,
                PullRequest = deploymentId, RequestedBy = "octocat", Reason = "bench", Order = finished.AddMinutes(-(deploymentId % 240)),
                Payload = "{}", DeliveryId = "d", DeploymentId = deploymentId, State = state, Rollback = deploymentId % 20 == 0,
                StartedAt = finished.AddMinutes(-2),
            };
            var status = new StatusRecord
            {
                Repository = pair.Repository, DeploymentId = deploymentId, StatusId = deploymentId, Environment = pair.Environment,
                State = state == LedgerState.Succeeded ? "success" : "failure", CreatedAt = finished,
            };
            await board.RecordAsync(status, entry, cancellationToken);
        }
    }
});
for (var i = 0; i < lockCount; i++)
{
    var repository = $"org/service-{i:D3}";
    await locks.TryLockAsync(new EnvironmentLock { Repository = repository, Environment = "production", Holder = "octocat", Reason = "bench", Since = now }, default);
    await locks.WaitingAsync(repository, new WaitingMerge("production", new string('a', 40), 1, "locked", now), default);
}

await Parallel.ForEachAsync(Enumerable.Range(0, marks), new ParallelOptions { MaxDegreeOfParallelism = 24 },
    async (i, cancellationToken) => await locks.TryMarkOnceAsync($"org/service-{i % repositories:D3}", $"mark-{i}", cancellationToken));
seeding.Stop();
Console.WriteLine($"seeded {id} deployments ({repositories} repositories x {environments.Length} environments x {days} days x {perDay}), " +
                  $"{lockCount} locks, {lockCount} waiting merges, {marks} marks in {seeding.Elapsed.TotalSeconds:F0} s");

var since = DateOnly.FromDateTime(now.UtcDateTime).AddDays(-(days - 1));
var until = DateOnly.FromDateTime(now.UtcDateTime);
async Task<BoardData> Data() => await reader.ReadAsync(null, null, now.AddDays(-days), null, 200, null, default);
async Task<DoraReport> DoraAll() => Dora.Compute(null, "production", since, until, await board.DaysAsync(null, "production", since, until, default));
async Task<DoraReport> DoraOne() => Dora.Compute("org/service-007", "production", since, until, await board.DaysAsync("org/service-007", "production", since, until, default));

var check = await Data();
var all = await DoraAll();
if (check.Environments.Count != repositories * environments.Length || all.Succeeded + all.Failed != repositories * days * perDay)
{
    Console.Error.WriteLine($"wrong answer: {check.Environments.Count} environments, {all.Succeeded + all.Failed} production results");
    return 1;
}

var data = await TimeAsync(Data);
var doraAll = await TimeAsync(DoraAll);
var doraOne = await TimeAsync(DoraOne);
var page = await TimeAsync(async () =>
{
    await Task.WhenAll(Data(), DoraAll());
    return 0;
});
Console.WriteLine($"board data ({check.Environments.Count} environments): p50 {data.P50:F0} ms, p95 {data.P95:F0} ms");
Console.WriteLine($"dora, all repositories, production, {days} days ({all.Succeeded + all.Failed} results): p50 {doraAll.P50:F0} ms, p95 {doraAll.P95:F0} ms");
Console.WriteLine($"dora, one repository: p50 {doraOne.P50:F0} ms, p95 {doraOne.P95:F0} ms");
Console.WriteLine($"the page's data (board data and dora at once): p50 {page.P50:F0} ms, p95 {page.P95:F0} ms");
Console.WriteLine(JsonSerializer.Serialize(new
{
    environments = check.Environments.Count,
    deployments = id,
    board_data_p50_ms = Math.Round(data.P50), board_data_p95_ms = Math.Round(data.P95),
    dora_all_p50_ms = Math.Round(doraAll.P50), dora_all_p95_ms = Math.Round(doraAll.P95),
    dora_one_p50_ms = Math.Round(doraOne.P50), dora_one_p95_ms = Math.Round(doraOne.P95),
    page_p50_ms = Math.Round(page.P50), page_p95_ms = Math.Round(page.P95),
}));
return 0;

async Task<(double P50, double P95)> TimeAsync<T>(Func<Task<T>> read)
{
    await read(); // warm
    var samples = new List<double>();
    for (var i = 0; i < reads; i++)
    {
        var watch = Stopwatch.StartNew();
        await read();
        samples.Add(watch.Elapsed.TotalMilliseconds);
    }

    samples.Sort();
    return (samples[(int)Math.Ceiling(0.5 * samples.Count) - 1], samples[(int)Math.Ceiling(0.95 * samples.Count) - 1]);
}

double Option(string name, double fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? double.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

static string FindRoot()
{
    for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
    {
        if (File.Exists(Path.Combine(directory.FullName, "DeployFunctions.sln")))
        {
            return directory.FullName;
        }
    }

    throw new InvalidOperationException("Run from inside the repository.");
}
