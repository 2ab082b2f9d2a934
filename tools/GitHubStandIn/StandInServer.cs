using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

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
        try
        {
            await AnswerAsync(context, path, next);
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
                context.Request.Headers.Authorization.FirstOrDefault(), DateTimeOffset.UtcNow, status));
        }
    }

    private async Task AnswerAsync(HttpContext context, string path, RequestDelegate next)
    {
        var fault = State.TakeFault(context.Request.Method, path);
        if (fault is not null)
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
        else if (!context.Request.Headers.Authorization.Any(a => a is not null && (a.StartsWith("token ", StringComparison.OrdinalIgnoreCase) || a.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))))
        {
            context.Response.StatusCode = 401;
            await context.Response.WriteAsJsonAsync(new { message = "Requires authentication", documentation_url = "https://docs.github.com/rest" });
        }
        else
        {
            await next(context);
        }
    }

    private void Map(WebApplication web)
    {
        web.MapPost("/repos/{owner}/{repo}/deployments", CreateDeploymentAsync);
        web.MapGet("/repos/{owner}/{repo}/deployments", ListDeployments);
        web.MapGet("/repos/{owner}/{repo}/deployments/{id:long}", GetDeployment);
        web.MapPost("/repos/{owner}/{repo}/deployments/{id:long}/statuses", CreateStatusAsync);
        web.MapGet("/repos/{owner}/{repo}/deployments/{id:long}/statuses", ListStatuses);
        web.MapPost("/repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches", () => Results.NoContent());
        web.MapGet("/repos/{owner}/{repo}/pulls/{number:long}", (string owner, string repo, long number) =>
            State.PullRequest($"{owner}/{repo}", number) is { } pull ? Json(200, GitHubShapes.PullRequest(BaseAddress, pull)) : NotFound());
        web.MapGet("/repos/{owner}/{repo}/pulls/{number:long}/reviews", (string owner, string repo, long number) =>
        {
            if (State.PullRequest($"{owner}/{repo}", number) is not { } pull)
            {
                return NotFound();
            }

            lock (State.Gate)
            {
                return Json(200, new JsonArray([.. pull.Reviews.Select(r => (JsonNode)GitHubShapes.Review(BaseAddress, pull, r))]));
            }
        });
        web.MapGet("/repos/{owner}/{repo}/collaborators/{user}/permission", (string owner, string repo, string user) =>
            State.Permissions.TryGetValue(($"{owner}/{repo}", user), out var role)
                ? Json(200, GitHubShapes.CollaboratorPermission(BaseAddress, user, role))
                : Json(404, new JsonObject { ["message"] = $"{user} is not a user", ["documentation_url"] = "https://docs.github.com/rest/collaborators/collaborators#get-repository-permissions-for-a-user" }));
        web.MapGet("/orgs/{org}/teams/{team}/memberships/{user}", (string org, string team, string user) =>
            State.TeamMembers.ContainsKey((org, team, user))
                ? Json(200, GitHubShapes.TeamMembership(BaseAddress, org, team, user))
                : Results.StatusCode(404)); // GitHub's description: "if user has no team membership", no body
        web.MapGet("/repos/{owner}/{repo}/branches/{branch}", (string owner, string repo, string branch) =>
            State.Branches.TryGetValue(($"{owner}/{repo}", branch), out var sha)
                ? Json(200, GitHubShapes.Branch(BaseAddress, State.Repository(owner, repo), branch, sha))
                : Json(404, new JsonObject { ["message"] = "Branch not found", ["documentation_url"] = "https://docs.github.com/rest/branches/branches#get-a-branch" }));
        web.MapGet("/repos/{owner}/{repo}/issues/{number:long}/comments", (string owner, string repo, long number, DateTimeOffset? since) =>
            Json(200, new JsonArray([.. State.CommentsOn($"{owner}/{repo}", number)
                .Where(c => since is null || c.CreatedAt >= since)
                .Select(c => (JsonNode)GitHubShapes.Comment(BaseAddress, c))])));
        web.MapPost("/repos/{owner}/{repo}/issues/{number:long}/comments", async (string owner, string repo, long number, HttpContext context) =>
        {
            var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
            if ((string?)body?["body"] is not { Length: > 0 } text)
            {
                return ValidationFailed("Invalid request.\n\n\"body\" wasn't supplied.", "https://docs.github.com/rest/issues/comments#create-an-issue-comment");
            }

            if (State.PullRequest($"{owner}/{repo}", number) is not { } pull)
            {
                return NotFound();
            }

            // Comments made through the API are the app's own: its bot user, as for an installation token.
            var comment = State.AddComment(pull.Repository, number, AppUser, "Bot", text, options.Clock.GetUtcNow());
            AnnounceComment(pull, comment);
            return Json(201, GitHubShapes.Comment(BaseAddress, comment));
        });
        web.MapPost("/repos/{owner}/{repo}/issues/comments/{id:long}/reactions", async (string owner, string repo, long id, HttpContext context) =>
        {
            var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
            var content = (string?)body?["content"];
            string[] contents = ["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"];
            if (content is null || !contents.Contains(content))
            {
                return ValidationFailed("Validation Failed: content is not included in the list", "https://docs.github.com/rest/reactions/reactions#create-reaction-for-an-issue-comment");
            }

            lock (State.Gate)
            {
                if (!State.Comments.Any(c => c.Id == id && string.Equals(c.Repository.FullName, $"{owner}/{repo}", StringComparison.OrdinalIgnoreCase)))
                {
                    return NotFound();
                }

                // One reaction of a kind per user: GitHub answers 200 with the existing one.
                if (State.Reactions.FirstOrDefault(r => r.CommentId == id && r.Content == content) is { } existing)
                {
                    return Json(200, GitHubShapes.Reaction(BaseAddress, existing));
                }

                var reaction = new StandInReaction(State.NextId(), id, content, AppUser, options.Clock.GetUtcNow());
                State.Reactions.Add(reaction);
                return Json(201, GitHubShapes.Reaction(BaseAddress, reaction));
            }
        });
        web.MapGet("/repos/{owner}/{repo}/contents/{**path}", (string owner, string repo, string path, HttpContext context) =>
        {
            if (!State.Files.TryGetValue(($"{owner}/{repo}", path), out var text))
            {
                return Json(404, new JsonObject { ["message"] = "Not Found", ["documentation_url"] = "https://docs.github.com/rest/repos/contents#get-repository-content", ["status"] = "404" });
            }

            var bytes = Encoding.UTF8.GetBytes(text);
#pragma warning disable CA5350 // git names a blob by the SHA-1 of its content; this is that name, not security
            var blob = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes($"blob {bytes.Length}\0{text}")));
#pragma warning restore CA5350
            var etag = $"W/\"{blob}\"";
            context.Response.Headers.ETag = etag;
            // A conditional request for what the client has: 304, no body, not counted against the rate limit.
            return context.Request.Headers.IfNoneMatch.Contains(etag)
                ? Results.StatusCode(304)
                : Json(200, GitHubShapes.ContentFile(BaseAddress, State.Repository(owner, repo), path, bytes, blob));
        });
        web.MapPost("/repos/{owner}/{repo}/statuses/{sha}", async (string owner, string repo, string sha, HttpContext context) =>
        {
            var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
            var state = (string?)body?["state"];
            if (state is not ("error" or "failure" or "pending" or "success"))
            {
                return ValidationFailed("Validation Failed: state is not included in the list", "https://docs.github.com/rest/commits/statuses#create-a-commit-status");
            }

            var context_ = (string?)body!["context"] ?? "default";
            var description = (string?)body["description"];
            State.CommitStatuses.Enqueue(($"{owner}/{repo}", sha, state, context_, description));
            return Json(201, GitHubShapes.CommitStatus(BaseAddress, State.Repository(owner, repo), sha, State.NextId(), state, context_, description, options.Clock.GetUtcNow()));
        });
        // The hook's delivery log and redelivery: repository hooks, organization hooks, and the GitHub App's hook (JWT).
        web.MapGet("/repos/{owner}/{repo}/hooks/{hook:long}/deliveries", (long hook) => Deliveries(hook));
        web.MapGet("/orgs/{org}/hooks/{hook:long}/deliveries", (long hook) => Deliveries(hook));
        web.MapGet("/app/hook/deliveries", (HttpContext context) =>
            IsAppJwt(context) ? Deliveries(options.HookId) : Json(401, new JsonObject { ["message"] = "A JSON web token could not be decoded" }));
        web.MapPost("/repos/{owner}/{repo}/hooks/{hook:long}/deliveries/{id:long}/attempts", (long hook, long id) => Redeliver(hook, id));
        web.MapPost("/orgs/{org}/hooks/{hook:long}/deliveries/{id:long}/attempts", (long hook, long id) => Redeliver(hook, id));
        web.MapPost("/app/hook/deliveries/{id:long}/attempts", (long id, HttpContext context) =>
            IsAppJwt(context) ? Redeliver(options.HookId, id) : Json(401, new JsonObject { ["message"] = "A JSON web token could not be decoded" }));
        web.MapPost("/repos/{owner}/{repo}/actions/runs/{run:long}/deployment_protection_rule", async (long run, HttpContext context) =>
        {
            var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
            var state = (string?)body?["state"];
            if (state is not ("approved" or "rejected") || (string?)body!["environment_name"] is not { } environment)
            {
                return ValidationFailed("Invalid request.\n\n\"state\" and \"environment_name\" are required.", "https://docs.github.com/rest/actions/workflow-runs#review-custom-deployment-protection-rules-for-a-workflow-run");
            }

            // One answer per pending rule: a second is refused, as GitHub does once nothing is pending.
            if (State.ProtectionAnswers.Any(a => a.RunId == run && a.Environment == environment))
            {
                return ValidationFailed("No pending deployment protection rule found for this environment.", "https://docs.github.com/rest/actions/workflow-runs#review-custom-deployment-protection-rules-for-a-workflow-run");
            }

            State.ProtectionAnswers.Enqueue((run, environment, state, (string?)body["comment"] ?? ""));
            return Results.NoContent();
        });
        web.MapGet("/repos/{owner}/{repo}/commits/{reference}/status", (string owner, string repo, string reference) =>
            Json(200, GitHubShapes.CombinedStatus(BaseAddress, State.Repository(owner, repo), reference,
                State.CombinedStatuses.TryGetValue(reference, out var combined) ? combined : null, options.Clock.GetUtcNow())));
        web.MapGet("/repos/{owner}/{repo}/installation", (string owner, string repo, HttpContext context) =>
        {
            if (!IsAppJwt(context))
            {
                return Json(401, new JsonObject { ["message"] = "A JSON web token could not be decoded" });
            }

            return State.InstallationOn($"{owner}/{repo}") is { } installation
                ? Json(200, GitHubShapes.Installation(BaseAddress, installation, 12345, owner))
                : NotFound();
        });
        web.MapPost("/app/installations/{id:long}/access_tokens", (long id, HttpContext context) =>
        {
            if (!IsAppJwt(context))
            {
                return Json(401, new JsonObject { ["message"] = "A JSON web token could not be decoded" });
            }

            return Json(201, new JsonObject
            {
                ["token"] = State.IssueInstallationToken(id),
                ["expires_at"] = GitHubShapes.Time(options.Clock.GetUtcNow().AddHours(1)),
                ["permissions"] = new JsonObject { ["deployments"] = "write", ["metadata"] = "read", ["pull_requests"] = "read" },
                ["repository_selection"] = "all",
            });
        });
    }

    private async Task<IResult> CreateDeploymentAsync(string owner, string repo, HttpContext context)
    {
        var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
        var reference = (string?)body?["ref"];
        if (body is null || string.IsNullOrEmpty(reference))
        {
            return ValidationFailed("Invalid request.\n\n\"ref\" wasn't supplied.", "https://docs.github.com/rest/deployments/deployments#create-a-deployment");
        }

        var repository = State.Repository(owner, repo);
        var payload = body["payload"] switch
        {
            JsonValue text when text.TryGetValue<string>(out var encoded) => JsonNode.Parse(encoded),
            { } node => node.DeepClone(),
            null => new JsonObject(),
        };
        var deployment = new StandInDeployment
        {
            Id = State.NextDeploymentId(),
            Repository = repository,
            Sha = reference.Length == 40 ? reference : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(reference)))[..40],
            Ref = reference,
            Task = (string?)body["task"] ?? "deploy",
            Environment = (string?)body["environment"] ?? "production",
            Description = (string?)body["description"],
            Payload = payload,
            Creator = "deployfunctions-standin[bot]",
            CreatedAt = options.Clock.GetUtcNow(),
            Request = (JsonObject)body.DeepClone(),
        };
        lock (State.Gate)
        {
            State.Deployments.Add(deployment);
        }

        var json = GitHubShapes.Deployment(BaseAddress, repository, deployment);
        Announce("deployment", new JsonObject
        {
            ["action"] = "created",
            ["deployment"] = json.DeepClone(),
            // Set when a workflow job created the deployment; a REST call leaves both null.
            ["workflow"] = null,
            ["workflow_run"] = null,
            ["repository"] = GitHubShapes.Repository(BaseAddress, repository),
            ["sender"] = GitHubShapes.User(BaseAddress, deployment.Creator, 9000, "Bot"),
        });
        return Json(201, json);
    }

    private IResult ListDeployments(string owner, string repo, string? sha, string? environment, string? task, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "ref")] string? reference)
    {
        var repository = State.Repository(owner, repo);
        JsonArray list;
        lock (State.Gate)
        {
            list = [.. State.Deployments
                .Where(d => d.Repository == repository)
                .Where(d => sha is null || d.Sha == sha)
                .Where(d => environment is null || d.Environment == environment)
                .Where(d => task is null || d.Task == task)
                .Where(d => reference is null || d.Ref == reference)
                .OrderByDescending(d => d.Id)
                .Select(d => (JsonNode)GitHubShapes.Deployment(BaseAddress, repository, d))];
        }

        return Json(200, list);
    }

    private IResult GetDeployment(string owner, string repo, long id)
    {
        var deployment = Find(owner, repo, id);
        return deployment is null ? NotFound() : Json(200, GitHubShapes.Deployment(BaseAddress, deployment.Repository, deployment));
    }

    private async Task<IResult> CreateStatusAsync(string owner, string repo, long id, HttpContext context)
    {
        var deployment = Find(owner, repo, id);
        if (deployment is null)
        {
            return NotFound();
        }

        var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
        var state = (string?)body?["state"];
        string[] states = ["error", "failure", "inactive", "in_progress", "queued", "pending", "success"];
        if (body is null || state is null || !states.Contains(state))
        {
            return ValidationFailed("Validation Failed: state is not included in the list", StatusesDocumentation);
        }

        var description = (string?)body["description"];
        if (description is { Length: > 140 })
        {
            return ValidationFailed("Validation Failed: description is too long (maximum is 140 characters)", StatusesDocumentation);
        }

        var status = new StandInStatus(State.NextStatusId(), state, description, (string?)body["environment"],
            (string?)body["log_url"] ?? (string?)body["target_url"], (string?)body["environment_url"], options.Clock.GetUtcNow());
        lock (State.Gate)
        {
            deployment.Statuses.Add(status);
        }

        var json = GitHubShapes.DeploymentStatus(BaseAddress, deployment.Repository, deployment, status);
        Announce("deployment_status", new JsonObject
        {
            ["action"] = "created",
            ["deployment_status"] = json.DeepClone(),
            ["deployment"] = GitHubShapes.Deployment(BaseAddress, deployment.Repository, deployment),
            ["repository"] = GitHubShapes.Repository(BaseAddress, deployment.Repository),
            ["sender"] = GitHubShapes.User(BaseAddress, deployment.Creator, 9000, "Bot"),
        });
        return Json(201, json);
    }

    private IResult ListStatuses(string owner, string repo, long id)
    {
        var deployment = Find(owner, repo, id);
        if (deployment is null)
        {
            return NotFound();
        }

        JsonArray list;
        lock (State.Gate)
        {
            list = [.. deployment.Statuses
                .OrderByDescending(s => s.Id)
                .Select(s => (JsonNode)GitHubShapes.DeploymentStatus(BaseAddress, deployment.Repository, deployment, s))];
        }

        return Json(200, list);
    }

    private IResult Deliveries(long hook) => hook != options.HookId
        ? NotFound()
        : Json(200, new JsonArray([.. State.DeliveryLog().OrderByDescending(d => d.Id).Select(d => (JsonNode)GitHubShapes.HookDelivery(d))]));

    private IResult Redeliver(long hook, long id)
    {
        if (hook != options.HookId || State.DeliveryLog().FirstOrDefault(d => d.Id == id) is not { } delivery)
        {
            return NotFound();
        }

        State.CountRedelivery();
        webhooks.Writer.TryWrite((delivery.Event, (JsonObject)delivery.Payload.DeepClone(), delivery.DeliveryGuid, true));
        return Json(202, new JsonObject());
    }

    private StandInDeployment? Find(string owner, string repo, long id)
    {
        lock (State.Gate)
        {
            return State.Deployments.FirstOrDefault(d =>
                d.Id == id && string.Equals(d.Repository.FullName, $"{owner}/{repo}", StringComparison.OrdinalIgnoreCase));
        }
    }

    private const string AppUser = "deployfunctions-standin[bot]";

    /// <summary>
    /// A person comments on a pull request, as on github.com: the comment is stored and GitHub's signed
    /// <c>issue_comment</c> <c>created</c> webhook goes to the app.
    /// </summary>
    public StandInComment Comment(StandInPullRequest pull, string user, string body)
    {
        ArgumentNullException.ThrowIfNull(pull);
        var comment = State.AddComment(pull.Repository, pull.Number, user, "User", body, options.Clock.GetUtcNow());
        AnnounceComment(pull, comment);
        return comment;
    }

    /// <summary>The <c>issue_comment</c> <c>created</c> payload of a comment (shape: @octokit/openapi-webhooks).</summary>
    public JsonObject CommentPayload(StandInPullRequest pull, StandInComment comment)
    {
        ArgumentNullException.ThrowIfNull(pull);
        ArgumentNullException.ThrowIfNull(comment);
        return new JsonObject
        {
            ["action"] = "created",
            ["issue"] = GitHubShapes.PullRequestIssue(BaseAddress, pull),
            ["comment"] = GitHubShapes.Comment(BaseAddress, comment),
            ["repository"] = GitHubShapes.Repository(BaseAddress, pull.Repository),
            ["sender"] = GitHubShapes.Person(BaseAddress, comment.User, comment.UserType),
        };
    }

    private void AnnounceComment(StandInPullRequest pull, StandInComment comment) => Announce("issue_comment", CommentPayload(pull, comment));

    /// <summary>
    /// DERIVED (no example exists in @octokit/webhooks-examples; shape from @octokit/openapi-webhooks,
    /// webhook-deployment-protection-rule-requested): a workflow job's deployment to <paramref name="environment"/> asks
    /// the app's protection rule; the answer goes to the callback for run <paramref name="runId"/>.
    /// </summary>
    public JsonObject ProtectionRuleRequested(StandInRepository repository, string environment, string sha, long runId, string requester, long installationId)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var deployment = new StandInDeployment
        {
            Id = State.NextDeploymentId(), Repository = repository, Sha = sha, Ref = repository.DefaultBranch, Task = "deploy",
            Environment = environment, Creator = requester, CreatedAt = options.Clock.GetUtcNow(), Request = new JsonObject(),
        };
        return new JsonObject
        {
            ["action"] = "requested",
            ["environment"] = environment,
            ["event"] = "push",
            ["deployment_callback_url"] = new Uri(BaseAddress, $"repos/{repository.FullName}/actions/runs/{runId}/deployment_protection_rule").ToString(),
            ["deployment"] = GitHubShapes.Deployment(BaseAddress, repository, deployment),
            ["pull_requests"] = new JsonArray(),
            ["repository"] = GitHubShapes.Repository(BaseAddress, repository),
            ["installation"] = new JsonObject { ["id"] = installationId, ["node_id"] = "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u" },
            ["sender"] = GitHubShapes.Person(BaseAddress, requester),
        };
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

    private static bool IsAppJwt(HttpContext context) =>
        context.Request.Headers.Authorization.FirstOrDefault() is { } auth && auth.StartsWith("Bearer ", StringComparison.Ordinal) &&
        auth.Split('.').Length == 3;

    private const string StatusesDocumentation = "https://docs.github.com/rest/deployments/statuses#create-a-deployment-status";

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
