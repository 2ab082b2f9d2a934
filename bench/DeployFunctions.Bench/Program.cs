using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeployFunctions.Storage;
using DeployFunctions.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

// One run measures, on the real merged pull-request payload (~25 KB):
//   (a) the ingress hot path without I/O: verify, parse, route, build the envelope;
//   (b) the floor: HMAC-SHA256 plus one Utf8JsonReader pass over the same bytes;
//   (c) @octokit/webhooks verifyAndReceive on Node, same payload and secret;
//   (d) the peak working set of a fresh process handling one 25 MB delivery through the ingress.
// It ends with one JSON line. usage: bench [--seconds 2] [--rounds 5]   (internal: bench --peak-25mb)
const string Secret = "benchmark-webhook-secret";
var root = FindRoot();
var payloadPath = Path.Combine(root, "tools", "GitHubStandIn", "Examples", "pull_request.closed.merged.json");

if (Array.IndexOf(args, "--peak-25mb") is var peakAt and >= 0)
{
    return await PeakAsync(args[peakAt + 1]);
}

var seconds = Option("--seconds", 2.0);
var rounds = (int)Option("--rounds", 5);
var payload = File.ReadAllBytes(payloadPath);
Console.WriteLine($"payload: {payload.Length} bytes ({payloadPath}); {rounds} rounds of {seconds} s each, median reported");

var options = Options.Create(new WebhookOptions { Secrets = { Secret } });
var intake = new DeliveryIntake(new WebhookSignature(options), TimeProvider.System);
var headers = new DeliveryHeaders
{
    Event = "pull_request",
    DeliveryId = "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    Signature256 = Sign(payload),
    HookId = "292430182",
    ContentType = "application/json",
};
ReadOnlyMemory<byte> body = payload;

var ingress = Measure("ingress (verify, parse, route, envelope)", () =>
{
    if (intake.Evaluate(headers, body) is not IntakeResult.Accepted { Route: DeliveryRoute.Queued } accepted)
    {
        throw new InvalidOperationException("the benchmark delivery was not accepted");
    }

    // As DeliveryQueues does: the message lives in a pooled buffer until it is sent.
    using var message = accepted.Envelope.SerializePooled(accepted.Payload.Span);
    return message.WrittenMemory.Length;
});

var key = Encoding.UTF8.GetBytes(Secret);
var floor = Measure("floor (HMAC-SHA256 + one Utf8JsonReader pass)", () =>
{
    Span<byte> mac = stackalloc byte[32];
    HMACSHA256.HashData(key, payload, mac);
    var reader = new Utf8JsonReader(payload);
    var tokens = 0;
    while (reader.Read())
    {
        tokens++;
    }

    return tokens + mac[0];
});

var octokit = await OctokitJsAsync();
var peak = await PeakInChildAsync();

Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, double>
{
    ["ingress_per_s"] = Math.Round(ingress),
    ["floor_per_s"] = Math.Round(floor),
    ["octokit_js_per_s"] = Math.Round(octokit),
    ["ratio_floor"] = Math.Round(ingress / floor, 3),
    ["ratio_octokit_js"] = Math.Round(ingress / octokit, 3),
    ["peak_mb_25mb"] = Math.Round(peak, 1),
}));
return 0;

double Measure(string name, Func<int> operation)
{
    var sink = 0;
    var warmUp = Stopwatch.StartNew();
    while (warmUp.Elapsed < TimeSpan.FromSeconds(1))
    {
        sink += operation();
    }

    var rates = new List<double>();
    for (var round = 0; round < rounds; round++)
    {
        var count = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            for (var i = 0; i < 64; i++)
            {
                sink += operation();
            }

            count += 64;
        }

        rates.Add(count / clock.Elapsed.TotalSeconds);
    }

    rates.Sort();
    var median = rates[rates.Count / 2];
    Console.WriteLine($"{name}: median {median:F0}/s, rounds [{string.Join(", ", rates.Select(r => r.ToString("F0", CultureInfo.InvariantCulture)))}] (sink {sink % 10})");
    return median;
}

async Task<double> OctokitJsAsync()
{
    var script = Path.Combine(root, "bench", "node", "octokit-webhooks.mjs");
    var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var argument in new[] { script, payloadPath, Secret, seconds.ToString(CultureInfo.InvariantCulture), rounds.ToString(CultureInfo.InvariantCulture) })
    {
        start.ArgumentList.Add(argument);
    }

    using var node = Process.Start(start)!;
    var output = await node.StandardOutput.ReadToEndAsync();
    var error = await node.StandardError.ReadToEndAsync();
    await node.WaitForExitAsync();
    if (node.ExitCode != 0)
    {
        throw new InvalidOperationException($"node failed ({node.ExitCode}): {error} (run bench/run.sh, which installs @octokit/webhooks)");
    }

    var result = JsonNode.Parse(output)!;
    var median = (double)result["median"]!;
    Console.WriteLine($"@octokit/webhooks {NodeVersion()} verifyAndReceive on Node {RunNode("--version").Trim()}: median {median:F0}/s, rounds {result["rounds"]!.ToJsonString()}");
    return median;
}

string NodeVersion() =>
    (string?)JsonNode.Parse(File.ReadAllText(Path.Combine(root, "bench", "node", "node_modules", "@octokit", "webhooks", "package.json")))!["version"] ?? "?";

static string RunNode(string argument)
{
    using var node = Process.Start(new ProcessStartInfo("node", argument) { RedirectStandardOutput = true })!;
    var text = node.StandardOutput.ReadToEnd();
    node.WaitForExit();
    return text;
}

async Task<double> PeakInChildAsync()
{
    // The real payload with its description grown to make the delivery 25 MB, written to a file in this process so
    // the child that handles it carries nothing but the delivery.
    var template = JsonNode.Parse(File.ReadAllBytes(payloadPath))!;
    template["pull_request"]!["body"] = "PLACEHOLDER";
    var parts = template.ToJsonString().Split("PLACEHOLDER");
    var file = Path.Combine(Path.GetTempPath(), $"deployfunctions-25mb-{Environment.ProcessId}.json");
    await using (var writer = new StreamWriter(file, false, new UTF8Encoding(false)))
    {
        await writer.WriteAsync(parts[0]);
        var line = new string('x', 1023) + "\\n";
        for (var written = parts[0].Length + parts[1].Length; written + line.Length <= 25 * 1024 * 1024; written += line.Length)
        {
            await writer.WriteAsync(line);
        }

        await writer.WriteAsync(parts[1]);
    }

    var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
    if (!Environment.ProcessPath!.EndsWith("DeployFunctions.Bench", StringComparison.Ordinal))
    {
        start.ArgumentList.Add(typeof(NoQueue).Assembly.Location);
    }

    start.ArgumentList.Add("--peak-25mb");
    start.ArgumentList.Add(file);
    using var child = Process.Start(start)!;
    var output = await child.StandardOutput.ReadToEndAsync();
    await child.WaitForExitAsync();
    File.Delete(file);
    var lines = output.Trim().Split('\n');
    Console.WriteLine($"one 25 MB delivery ({new FileInfo(payloadPath).Name} grown to 25 MB) in a fresh process: {lines[0]}");
    return (double)JsonNode.Parse(lines[^1])!["peak_mb"]!;
}

// The child: handle one 25 MB delivery through WebhookIngress (request body streamed from the file, as Kestrel
// streams it; the queue a no-op) and report the process's peak working set, start-up included.
async Task<int> PeakAsync(string file)
{
    var signature = await SignFileAsync(file);
    var options = Options.Create(new WebhookOptions { Secrets = { Secret } });
    var ingress = new WebhookIngress(new DeliveryIntake(new WebhookSignature(options), TimeProvider.System),
        new NoQueue(), options, NullLogger<WebhookIngress>.Instance);
    var process = Process.GetCurrentProcess();
    process.Refresh();
    var before = process.WorkingSet64;

    await using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024))
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = stream.Length;
        context.Request.Headers["X-GitHub-Event"] = "pull_request";
        context.Request.Headers["X-GitHub-Delivery"] = "peak";
        context.Request.Headers["X-Hub-Signature-256"] = signature;
        context.Request.Body = stream;
        var answer = await ingress.HandleAsync(context.Request, CancellationToken.None);
        if (answer.StatusCode != 202)
        {
            throw new InvalidOperationException($"the 25 MB delivery got {answer.StatusCode} {answer.Reason}");
        }
    }

    process.Refresh();
    Console.WriteLine($"{new FileInfo(file).Length} bytes; working set before handling {before / 1048576.0:F1} MB, peak {process.PeakWorkingSet64 / 1048576.0:F1} MB");
    Console.WriteLine(JsonSerializer.Serialize(new { peak_mb = process.PeakWorkingSet64 / 1048576.0, before_mb = before / 1048576.0 }));
    return 0;
}

static async Task<string> SignFileAsync(string file)
{
    using var hmac = new HMACSHA256(Encoding.UTF8.GetBytes(Secret));
    await using var stream = File.OpenRead(file);
    return "sha256=" + Convert.ToHexStringLower(await hmac.ComputeHashAsync(stream));
}

static string Sign(byte[] body) =>
    "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), body));

double Option(string name, double fallback)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? double.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
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

    throw new InvalidOperationException("Run the benchmark from inside the repository.");
}

internal sealed class NoQueue : IDeliveryQueues
{
    public Task<string> EnqueueAsync(DeliveryQueueKind queue, WebhookEnvelope envelope, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) =>
        Task.FromResult("none");
}

