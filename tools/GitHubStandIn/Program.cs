using GitHubStandIn;
using Microsoft.Extensions.Logging;

// dotnet run --project tools/GitHubStandIn -- [--port 4010] [--webhook-url URL] [--secret S | --settings local.settings.json]
var port = 4010;
Uri? webhookUrl = new("http://localhost:7071/api/github/webhooks");
string? secret = Environment.GetEnvironmentVariable("STANDIN_WEBHOOK_SECRET");
string? settings = null;
for (var i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--port": port = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--webhook-url": webhookUrl = new Uri(args[i + 1]); break;
        case "--secret": secret = args[i + 1]; break;
        case "--settings": settings = args[i + 1]; break;
        default:
            Console.Error.WriteLine($"Unknown option {args[i]}");
            return 2;
    }
}

if (secret is null && settings is not null && File.Exists(settings))
{
    using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(settings));
    secret = json.RootElement.GetProperty("Values").GetProperty("Webhook__Secrets__0").GetString();
}

if (string.IsNullOrEmpty(secret))
{
    Console.Error.WriteLine("No webhook secret: pass --secret, --settings local.settings.json, or set STANDIN_WEBHOOK_SECRET.");
    return 2;
}

await using var server = new StandInServer(new StandInOptions
{
    Port = port,
    WebhookUrl = webhookUrl,
    WebhookSecret = secret,
    LogLevel = LogLevel.Information,
});
await server.StartAsync();
Console.WriteLine($"GitHub stand-in: REST API at {server.BaseAddress}, webhooks to {webhookUrl}. Ctrl+C stops it.");
await server.WaitForShutdownAsync();
return 0;
