using GitHubStandIn;

// The GitHub stand-in and its delivery sender. Usage:
//   serve [--port 4010] [--webhook-url URL] [--secret S | --settings local.settings.json]
//   send  [--url URL] [--secret S | --settings local.settings.json] (--merged-pr [--repo owner/name] | --file saved.txt)
//   merge [--url URL] [--settings local.settings.json]      (= send --merged-pr)
//   comment [<pr>] "<text>" [--as octocat] [--repo owner/name] [--standin http://127.0.0.1:4010/]
//         (a person's comment on the running stand-in's pull request; prints the app's answer; also --body/--user/--pr)
//   pr open --head feature [--base master] [--as octocat]   pr push <pr>      (open a pull request; push a new head)
//   review <pr> (--approve | --request-changes) --as hubot   react <comment id> +1 --as octocat
//   comments <pr>                                            (the conversation: every comment and its reactions)
const string DefaultWebhookUrl = "http://localhost:7071/api/github/webhooks";
var hasVerb = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal);
var verb = hasVerb ? args[0] : "serve";
var rest = hasVerb ? args[1..] : args;
var options = new Dictionary<string, string>(StringComparer.Ordinal);
var positionals = new List<string>();
var mergedPr = false;
string[] switches = ["--merged-pr", "--approve", "--request-changes"];
for (var i = 0; i < rest.Length; i++)
{
    if (switches.Contains(rest[i]))
    {
        mergedPr |= rest[i] == "--merged-pr";
        options[rest[i]] = "true";
    }
    else if (rest[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < rest.Length)
    {
        options[rest[i]] = rest[++i];
    }
    else if (LocalCommand.Verbs.Contains(verb) && !rest[i].StartsWith("--", StringComparison.Ordinal))
    {
        positionals.Add(rest[i]);
    }
    else
    {
        return Usage($"unexpected argument '{rest[i]}'");
    }
}

if (LocalCommand.Verbs.Contains(verb))
{
    return await LocalCommand.RunAsync(verb, positionals, options);
}

var secret = options.GetValueOrDefault("--secret") ?? Environment.GetEnvironmentVariable("STANDIN_WEBHOOK_SECRET")
    ?? SecretFromSettings(options.GetValueOrDefault("--settings") ?? "local.settings.json");
if (string.IsNullOrEmpty(secret))
{
    return Usage("no webhook secret: pass --secret, or --settings pointing at a local.settings.json with Webhook__Secrets__0");
}

switch (verb)
{
    case "serve":
    {
        var port = int.Parse(options.GetValueOrDefault("--port") ?? "4010", System.Globalization.CultureInfo.InvariantCulture);
        var webhookUrl = new Uri(options.GetValueOrDefault("--webhook-url") ?? DefaultWebhookUrl);
        await using var server = new StandInServer(new StandInOptions { Port = port, WebhookUrl = webhookUrl, WebhookSecret = secret, LogLevel = LogLevel.Information });
        await server.StartAsync();
        server.SeedDemo();
        Console.WriteLine($"GitHub stand-in: REST API at {server.BaseAddress}, webhooks to {webhookUrl}. Ctrl+C stops it.");
        await server.WaitForShutdownAsync();
        return 0;
    }

    case "send" or "merge":
    {
        Delivery delivery;
        if (verb == "merge" || mergedPr)
        {
            delivery = DeliverySender.MergedPullRequest(options.GetValueOrDefault("--repo"));
        }
        else if (options.GetValueOrDefault("--file") is { } file)
        {
            delivery = DeliverySender.Parse(await File.ReadAllTextAsync(file));
        }
        else
        {
            return Usage("send needs --merged-pr or --file");
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var url = new Uri(options.GetValueOrDefault("--url") ?? DefaultWebhookUrl);
        try
        {
            var (status, answer) = await DeliverySender.SendAsync(http, url, delivery, secret);
            Console.WriteLine($"{delivery.Event} delivery {delivery.DeliveryId} -> {url}: {status} {answer}");
            return status is >= 200 and < 300 ? 0 : 1;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            Console.Error.WriteLine($"error: could not deliver to {url} ({exception.Message}). Is the app running (./scripts/run-local.sh)?");
            return 1;
        }
    }

    default:
        return Usage($"unknown command '{verb}'");
}

static string? SecretFromSettings(string path)
{
    if (!File.Exists(path))
    {
        return null;
    }

    using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
    return json.RootElement.TryGetProperty("Values", out var values) && values.TryGetProperty("Webhook__Secrets__0", out var value)
        ? value.GetString()
        : null;
}

static int Usage(string problem)
{
    Console.Error.WriteLine($"error: {problem}");
    Console.Error.WriteLine("usage: serve [--port 4010] [--webhook-url URL] [--secret S | --settings local.settings.json]");
    Console.Error.WriteLine("       send [--url URL] [--secret S | --settings F] (--merged-pr [--repo owner/name] | --file saved-delivery.txt)");
    Console.Error.WriteLine("       merge [--url URL] [--settings F]");
    Console.Error.WriteLine("       comment [<pr>] \"<text>\" [--as octocat] [--repo owner/name] [--standin http://127.0.0.1:4010/]");
    Console.Error.WriteLine("       pr open --head <branch> [--base <branch>] [--as <login>] | pr push <pr>");
    Console.Error.WriteLine("       review <pr> (--approve | --request-changes) --as <login> | react <comment id> <+1|-1|...> --as <login> | comments <pr>");
    return 2;
}
