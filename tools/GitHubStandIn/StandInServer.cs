using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using GitHubStandIn.OpenApi;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace GitHubStandIn;

/// <summary>Where the stand-in listens and where it sends webhooks.</summary>
public sealed record StandInOptions
{
    /// <summary>0: any free port.</summary>
    public int Port { get; init; }

    /// <summary>The app's webhook URL; null: send no webhooks.</summary>
    public Uri? WebhookUrl { get; init; }

    /// <summary>The webhook secret the deliveries are signed with.</summary>
    public string WebhookSecret { get; init; } = "";

    /// <summary>When set, deliveries carry <c>installation.id</c>, as a GitHub App's do.</summary>
    public long? InstallationId { get; init; }

    public long HookId { get; init; } = 424242;

    public LogLevel LogLevel { get; init; } = LogLevel.Warning;

    /// <summary>The stand-in's clock (token expiry, timestamps); tests share theirs.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>
    /// GitHub's primary rate limit, scaled down: this many requests per credentials and limit (REST <c>core</c>, <c>graphql</c>)
    /// per <see cref="RateLimitWindow"/>; past it GitHub's 403. Null: the stand-in's budget never runs out (its answers
    /// still carry <c>x-ratelimit-*</c>, from 5,000 an hour).
    /// </summary>
    public int? RateLimit { get; init; }

    public TimeSpan RateLimitWindow { get; init; } = TimeSpan.FromHours(1);

    /// <summary>GitHub's secondary limit on concurrent requests per credentials (GitHub's is 100); null: none.</summary>
    public int? MaxConcurrentRequests { get; init; }

    /// <summary>The <c>retry-after</c> of a secondary-limit 403 (GitHub says 60 s).</summary>
    public int SecondaryRetryAfterSeconds { get; init; } = 60;
}

/// <summary>
/// A small GitHub: the REST endpoints DeployFunctions calls (deployments, statuses, workflow dispatch, installation
/// tokens), answering in GitHub's shapes, and, like GitHub, a signed <c>deployment</c> / <c>deployment_status</c>
/// webhook to the app for every deployment or status created. Serves both <c>/</c> and <c>/api/v3/</c> (Enterprise).
/// </summary>
public sealed partial class StandInServer : IAsyncDisposable
{
    private readonly StandInOptions options;
    private readonly WebApplication app;
    private readonly Channel<(string Event, JsonObject Payload, string Guid, bool Redelivery)> webhooks =
        Channel.CreateUnbounded<(string, JsonObject, string, bool)>();
    private readonly HttpClient webhookClient = new() { Timeout = TimeSpan.FromSeconds(10) };
    private Task? sending;
    private int webhooksSent;
    private int webhooksFailed;

    public StandInServer(StandInOptions options)
    {
        this.options = options;
        WebhookUrl = options.WebhookUrl;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(options.LogLevel);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, options.Port));
        app = builder.Build();
        app.UsePathBase("/api/v3");
        app.Use(RecordAndFaultAsync);
        Map(app);
    }

    public StandInState State { get; } = new();

    /// <summary>Where deliveries go; may be set after start (null: send none).</summary>
    public Uri? WebhookUrl { get; set; }

    /// <summary>The REST API root, e.g. <c>http://127.0.0.1:4010/</c>.</summary>
    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");

    public int WebhooksSent => Volatile.Read(ref webhooksSent);
    public int WebhooksFailed => Volatile.Read(ref webhooksFailed);

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address.TrimEnd('/') + "/");
        sending = SendWebhooksAsync();
    }

    public Task WaitForShutdownAsync() => app.WaitForShutdownAsync();

    public async ValueTask DisposeAsync()
    {
        webhooks.Writer.TryComplete();
        if (sending is not null)
        {
            await sending;
        }

        await app.DisposeAsync();
        webhookClient.Dispose();
    }

    public static string Sign(ReadOnlySpan<byte> body, string secret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    private async Task RecordAndFaultAsync(HttpContext context, RequestDelegate next)
    {
        context.Request.EnableBuffering();
        string body;
        using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8, leaveOpen: true))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted);
        }

        context.Request.Body.Position = 0;
        var path = context.Request.Path.Value ?? "/";
        if (path.StartsWith("/_standin/", StringComparison.Ordinal))
        {
            await next(context); // the stand-in's own routes (Api/LocalApi.cs): not GitHub's, so not checked or counted as GitHub's
            return;
        }

        try
        {
            if (Refusal(context, path, body) is { } refusal)
            {
                // What GitHub would refuse (a field it does not take, a missing one, a value outside its enum, a route it lacks)
                // is refused here too, and remembered: a test fails on any request GitHub's description does not allow.
                State.SchemaRefusals.Enqueue((context.Request.Method, path + context.Request.QueryString, refusal.Errors));
                context.Response.StatusCode = refusal.Status;
                context.Response.ContentType = "application/json; charset=utf-8";
                await context.Response.WriteAsync(refusal.Body.ToJsonString(), context.RequestAborted);
                return;
            }

            if (Limit(context, path) is { } limited)
            {
                context.Response.StatusCode = 403;
                context.Response.ContentType = "application/json; charset=utf-8";
                await context.Response.WriteAsync(limited.ToJsonString(), context.RequestAborted);
                return;
            }

            try
            {
                await AnswerAsync(context, path, body, next);
            }
            finally
            {
                Leave(context);
            }
        }
        finally
        {
            // Recorded however it ended; a request the client gave up on shows status 499.
            var status = context.RequestAborted.IsCancellationRequested ? 499 : context.Response.StatusCode;
            if (status != 304)
            {
                State.CountAgainstRateLimit();
            }

            State.Record(new RecordedRequest(context.Request.Method, path, context.Request.QueryString.Value ?? "", body,
                context.Request.Headers.Authorization.FirstOrDefault(), DateTimeOffset.UtcNow, status)
            {
                UserAgent = context.Request.Headers.UserAgent.FirstOrDefault(),
            });
        }
    }

    /// <summary>
    /// GitHub's answer to a request its REST description does not allow (<see cref="OpenApiDescription.CheckRequest"/>): 404
    /// for a route it lacks, 400 for a body that is not JSON, 422 with <c>message</c>, <c>errors</c> and
    /// <c>documentation_url</c> otherwise; null when it would take it. GraphQL queries are checked against its schema instead.
    /// </summary>
    private static (int Status, JsonObject Body, List<string> Errors)? Refusal(HttpContext context, string path, string body)
    {
        if (path is "/graphql" or "/api/graphql" || RestDescription.Value is not { } description)
        {
            return null;
        }

        JsonNode? json = null;
        if (body.Length > 0)
        {
            try
            {
                json = JsonNode.Parse(body);
            }
            catch (JsonException)
            {
                return (400, new JsonObject { ["message"] = "Problems parsing JSON", ["documentation_url"] = "https://docs.github.com/rest" }, ["the body is not JSON"]);
            }
        }

        var query = context.Request.Query.SelectMany(q => q.Value.Select(v => KeyValuePair.Create(q.Key, v ?? "")));
        var errors = description.CheckRequest(context.Request.Method, path, query, json);
        if (errors.Count == 0)
        {
            return null;
        }

        return description.Template(path) is null || errors[0].StartsWith("GitHub has no ", StringComparison.Ordinal)
            ? (404, new JsonObject { ["message"] = "Not Found", ["documentation_url"] = "https://docs.github.com/rest", ["status"] = "404" }, errors)
            : (422, new JsonObject
            {
                ["message"] = "Validation Failed: " + string.Join("; ", errors),
                ["errors"] = new JsonArray([.. errors.Select(e => (JsonNode)new JsonObject { ["code"] = "invalid", ["message"] = e })]),
                ["documentation_url"] = "https://docs.github.com/rest",
                ["status"] = "422",
            }, errors);
    }

    /// <summary>GitHub's REST description, when <c>node_modules/@octokit/openapi</c> is there (the tests and <c>npm ci</c> put it there).</summary>
    private static readonly Lazy<OpenApiDescription?> RestDescription = new(() =>
    {
        try
        {
            return OpenApiDescription.Rest;
        }
        catch (InvalidOperationException)
        {
            return null; // without it, requests are answered unchecked
        }
    });

    private async Task AnswerAsync(HttpContext context, string path, string body, RequestDelegate next)
    {
        var fault = State.TakeFault(context.Request.Method, path, body);
        if (fault is { AfterHandling: true })
        {
            // The work is done; the answer waits until the client has given up on it.
            var answer = context.Response.Body;
            using var held = new MemoryStream();
            context.Response.Body = held;
            await next(context);
            try
            {
                await Task.Delay(fault.Delay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            context.Response.Body = answer;
            held.Position = 0;
            await held.CopyToAsync(answer, context.RequestAborted);
        }
        else if (fault is not null)
        {
            if (fault.Delay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(fault.Delay, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            context.Response.StatusCode = fault.Status;
            foreach (var (name, value) in fault.Headers)
            {
                context.Response.Headers[name] = value;
            }

            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsync(fault.Body, context.RequestAborted);
        }
        else if (!context.Request.Headers.Authorization.Any(a => a is not null && (a.StartsWith("token ", StringComparison.OrdinalIgnoreCase) || a.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))) ||
                 State.IsRevoked(Token(context)))
        {
            context.Response.StatusCode = 401;
            await context.Response.WriteAsJsonAsync(new { message = State.IsRevoked(Token(context)) ? "Bad credentials" : "Requires authentication", documentation_url = "https://docs.github.com/rest" });
        }
        else
        {
            await next(context);
        }
    }

    private void Map(WebApplication web)
    {
        MapDeployments(web);
        MapActions(web);
        MapPullRequests(web);
        MapRepos(web);
        MapIssues(web);
        MapEnvironments(web);
        MapHooks(web);
        MapApps(web);
        MapUsers(web);
        MapChecks(web);
        MapGraphQL(web);
        MapLocal(web);
    }

    /// <summary>Sends a webhook of <paramref name="eventName"/> to the app, as GitHub would (signed, logged in the hook's deliveries).</summary>
    public void Send(string eventName, JsonObject payload) => Announce(eventName, payload);

    private void Announce(string eventName, JsonObject payload)
    {
        if (options.InstallationId is { } installation)
        {
            payload["installation"] = new JsonObject { ["id"] = installation, ["node_id"] = "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u" };
        }

        webhooks.Writer.TryWrite((eventName, payload, Guid.NewGuid().ToString(), false));
    }

    /// <summary>Deliveries go out in order, after the REST answer, as GitHub's do.</summary>
    private async Task SendWebhooksAsync()
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("GitHubStandIn.Webhooks");
        await foreach (var (eventName, payload, guid, redelivery) in webhooks.Reader.ReadAllAsync())
        {
            if (WebhookUrl is not { } target)
            {
                continue;
            }

            var statusCode = 0;

            var body = Encoding.UTF8.GetBytes(payload.ToJsonString());
            using var request = new HttpRequestMessage(HttpMethod.Post, target);
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            request.Headers.Add("X-GitHub-Event", eventName);
            request.Headers.Add("X-GitHub-Delivery", guid);
            request.Headers.Add("X-GitHub-Hook-ID", options.HookId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add("X-Hub-Signature-256", Sign(body, options.WebhookSecret));
            request.Headers.UserAgent.ParseAdd("GitHub-Hookshot/standin");
            try
            {
                using var response = await webhookClient.SendAsync(request);
                var answer = await response.Content.ReadAsStringAsync();
                statusCode = (int)response.StatusCode;
                Interlocked.Increment(ref response.IsSuccessStatusCode ? ref webhooksSent : ref webhooksFailed);
                LogSent(logger, eventName, (int)response.StatusCode, answer);
            }
            catch (HttpRequestException exception)
            {
                Interlocked.Increment(ref webhooksFailed);
                LogNotSent(logger, eventName, target, exception.Message);
            }
            catch (TaskCanceledException)
            {
                Interlocked.Increment(ref webhooksFailed);
                LogNotSent(logger, eventName, target, "timed out");
            }

            // Every attempt is in the hook's delivery log, as on GitHub (status code 0: no answer).
            State.RecordDelivery(new StandInDelivery(State.NextId(), guid, eventName, (string?)payload["action"], statusCode,
                options.Clock.GetUtcNow(), redelivery, payload));
        }
    }

    private static IResult Json(int status, JsonNode body) =>
        Results.Text(body.ToJsonString(), "application/json; charset=utf-8", Encoding.UTF8, status);

    /// <summary>Who a request acts as: the person behind a token in <see cref="StandInState.TokenLogins"/>, else the app's bot.</summary>
    private string Actor(HttpContext context) =>
        State.TokenLogins.TryGetValue(Token(context), out var login) ? login : StandInState.AppLogin;

    /// <summary>The token of the request's <c>Authorization</c> header (after <c>token</c> or <c>Bearer</c>).</summary>
    private static string Token(HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization.FirstOrDefault() ?? "";
        var space = authorization.IndexOf(' ', StringComparison.Ordinal);
        return space < 0 ? authorization : authorization[(space + 1)..];
    }

    private static bool IsAppJwt(HttpContext context) =>
        context.Request.Headers.Authorization.FirstOrDefault() is { } auth && auth.StartsWith("Bearer ", StringComparison.Ordinal) &&
        auth.Split('.').Length == 3;

    /// <summary>GitHub's 422 (<c>validation-error</c>: <c>message</c> and <c>documentation_url</c>).</summary>
    private static IResult ValidationFailed(string message, string documentation) =>
        Json(422, new JsonObject { ["message"] = message, ["documentation_url"] = documentation, ["status"] = "422" });

    private static IResult NotFound() =>
        Json(404, new JsonObject { ["message"] = "Not Found", ["documentation_url"] = "https://docs.github.com/rest" });

    [LoggerMessage(Level = LogLevel.Information, Message = "Sent {Event} webhook: {Status} {Answer}")]
    private static partial void LogSent(ILogger logger, string @event, int status, string answer);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not send {Event} webhook to {Url}: {Error}")]
    private static partial void LogNotSent(ILogger logger, string @event, Uri url, string error);
}
