using System.Text.Json.Nodes;
using DeployFunctions.Functions;
using DeployFunctions.History;
using DeployFunctions.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using NSubstitute;
using NSubstitute.ExceptionExtensions;

namespace DeployFunctions.Tests.History;

/// <summary>Status logging on a real Azurite table, with notifications to a real local webhook.</summary>
public sealed class DeploymentHistoryTests(Azurite azurite) : IClassFixture<Azurite>
{
    private async Task<(ServiceProvider Services, RecordingServer Slack)> StartAsync()
    {
        var slack = await RecordingServer.StartAsync();
        var table = "t" + Guid.NewGuid().ToString("N")[..10];
        var services = TestHost.Services(azurite.ConnectionString, settings =>
        {
            settings["HistoryTable"] = table;
            settings["Notifications:WebhookUrl"] = slack.Url.ToString();
        });
        return (services, slack);
    }

    /// <summary>GitHub's real deployment_status example, with the state and id changed where asked (DERIVED then).</summary>
    private static DeployFunctions.Storage.QueuedDelivery Status(string state = "success", long id = 209916254, string repository = "Codertocat/Hello-World", string environment = "production", DateTimeOffset? at = null)
    {
        var payload = WebhookExamples.Get("deployment_status", "created");
        if (at is { } createdAt)
        {
            payload["deployment_status"]!["created_at"] = createdAt.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        }

        payload["deployment_status"]!["state"] = state;
        payload["deployment_status"]!["id"] = id;
        payload["deployment_status"]!["environment"] = environment;
        payload["repository"]!["full_name"] = repository;
        return new DeployFunctions.Storage.QueuedDelivery(new DeployFunctions.Webhooks.WebhookEnvelope
        {
            DeliveryId = "d-" + id, Event = "deployment_status", Action = "created", ReceivedAt = DateTimeOffset.UtcNow, Repository = repository,
        }, WebhookExamples.Bytes(payload));
    }

    [Fact]
    public async Task Each_status_adds_one_history_row_and_a_repeat_adds_nothing()
    {
        var (services, slack) = await StartAsync();
        await using var _ = services;
        await using var __ = slack;
        var recorder = services.GetRequiredService<DeploymentStatusRecorder>();

        await recorder.HandleAsync(Status("in_progress", 1), default);
        await recorder.HandleAsync(Status("success", 2), default);
        await recorder.HandleAsync(Status("success", 2), default);

        var history = await services.GetRequiredService<IDeploymentHistory>().RecentAsync("Codertocat/Hello-World", null, 50, default);
        Assert.Equal([2L, 1L], history.Select(h => h.StatusId));
        Assert.Equal(145988746, history[0].DeploymentId);
        Assert.Equal("success", history[0].State);
        Assert.Equal("production", history[0].Environment);
        Assert.Equal("Codertocat", history[0].Creator);
    }

    [Fact]
    public async Task Final_states_notify_once_and_progress_does_not()
    {
        var (services, slack) = await StartAsync();
        await using var _ = services;
        await using var __ = slack;
        var recorder = services.GetRequiredService<DeploymentStatusRecorder>();

        await recorder.HandleAsync(Status("in_progress", 1), default);
        await recorder.HandleAsync(Status("failure", 2), default);
        await recorder.HandleAsync(Status("failure", 2), default);

        var (_, body) = Assert.Single(slack.Received);
        var text = (string?)JsonNode.Parse(body)!["text"];
        Assert.StartsWith("Deployment 145988746 of Codertocat/Hello-World@f95f852 to production: failure", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task History_endpoint_returns_recent_statuses_filtered_by_repository_and_environment()
    {
        var (services, slack) = await StartAsync();
        await using var _ = services;
        await using var __ = slack;
        var recorder = services.GetRequiredService<DeploymentStatusRecorder>();
        await recorder.HandleAsync(Status("success", 1, "octo/app", "production"), default);
        await recorder.HandleAsync(Status("success", 2, "octo/app", "staging"), default);
        await recorder.HandleAsync(Status("success", 3, "octo/other", "production"), default);

        var (status, body) = await GetAsync(services, "?repository=octo/app&environment=production");

        Assert.Equal(200, status);
        var row = Assert.Single(body.AsArray())!;
        Assert.Equal(1, (long)row["status_id"]!);
        Assert.Equal("octo/app", (string?)row["repository"]);
        Assert.Equal(3, (await GetAsync(services, "")).Body.AsArray().Count);
        Assert.Equal(2, (await GetAsync(services, "?environment=production")).Body.AsArray().Count);
        Assert.Single((await GetAsync(services, "?limit=1")).Body.AsArray());
    }

    [Fact]
    public async Task History_endpoint_pages_with_a_continuation_and_filters_by_time()
    {
        var (services, slack) = await StartAsync();
        await using var _ = services;
        await using var __ = slack;
        var recorder = services.GetRequiredService<DeploymentStatusRecorder>();
        var monday = new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);
        for (var i = 1; i <= 5; i++)
        {
            await recorder.HandleAsync(Status("in_progress", i, "octo/app", at: monday.AddHours(i)), default);
        }

        var seen = new List<long>();
        string? continuation = null;
        var pages = 0;
        do
        {
            var query = "?repository=octo/app&limit=2" + (continuation is null ? "" : "&continuation=" + Uri.EscapeDataString(continuation));
            var (status, body, headers) = await GetWithHeadersAsync(services, query);
            Assert.Equal(200, status);
            seen.AddRange(body.AsArray().Select(r => (long)r!["status_id"]!));
            continuation = headers.TryGetValue(DeploymentHistoryFunction.ContinuationHeader, out var next) ? next.ToString() : null;
            pages++;
        }
        while (continuation is not null && pages < 10);

        Assert.Equal([5L, 4, 3, 2, 1], seen); // newest first, each once
        Assert.True(pages >= 3);
        var window = (await GetAsync(services, "?repository=octo/app&since=2026-11-23T11:00:00Z&until=2026-11-23T13:00:00Z")).Body.AsArray();
        Assert.Equal([4L, 3, 2], window.Select(r => (long)r!["status_id"]!)); // both ends included
        var (bad, reason) = await GetAsync(services, "?since=yesterday");
        Assert.Equal(400, bad);
        Assert.Contains("ISO 8601", (string?)reason["reason"], StringComparison.Ordinal);
        Assert.Equal(400, (await GetAsync(services, "?since=2026-11-24&until=2026-11-23")).Status);
    }

    private static async Task<(int Status, JsonNode Body, IHeaderDictionary Headers)> GetWithHeadersAsync(IServiceProvider services, string query)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.QueryString = new QueryString(query);
        context.Response.Body = new MemoryStream();
        var result = await services.GetRequiredService<DeploymentHistoryFunction>().Run(context.Request, default);
        await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new()));
        context.Response.Body.Position = 0;
        return (context.Response.StatusCode, JsonNode.Parse(context.Response.Body)!, context.Response.Headers);
    }

    [Theory]
    [InlineData("?limit=0")]
    [InlineData("?limit=501")]
    [InlineData("?limit=abc")]
    public async Task History_endpoint_refuses_a_bad_limit(string query)
    {
        var (services, slack) = await StartAsync();
        await using var _ = services;
        await using var __ = slack;

        var (status, body) = await GetAsync(services, query);

        Assert.Equal(400, status);
        Assert.Contains("limit", (string?)body["reason"], StringComparison.Ordinal);
    }

    private static async Task<(int Status, JsonNode Body)> GetAsync(IServiceProvider services, string query)
    {
        var (status, body, _) = await GetWithHeadersAsync(services, query);
        return (status, body);
    }

    [Fact]
    public async Task A_process_that_died_between_the_history_row_and_the_notification_notifies_on_the_retry()
    {
        var (services, slack) = await StartAsync();
        await using var _ = services;
        await using var __ = slack;
        var history = services.GetRequiredService<IDeploymentHistory>();
        var dying = Substitute.For<INotifier>();
        dying.NotifyAsync(default!, default).ThrowsAsyncForAnyArgs(new OperationCanceledException("the process stops"));
        var first = new DeploymentStatusRecorder(history, dying, NullLogger<DeploymentStatusRecorder>.Instance);

        await Assert.ThrowsAsync<OperationCanceledException>(() => first.HandleAsync(Status("success", 3), default));
        var retry = services.GetRequiredService<DeploymentStatusRecorder>();
        await retry.HandleAsync(Status("success", 3), default);
        await retry.HandleAsync(Status("success", 3), default);

        var notification = Assert.Single(slack.Received);
        Assert.Contains("success", notification.Body, StringComparison.Ordinal);
        Assert.Single(await history.RecentAsync("Codertocat/Hello-World", null, 50, default));
    }

    [Fact]
    public async Task The_cross_repository_history_is_newest_first_whichever_repository_sorts_first()
    {
        var (services, slack) = await StartAsync();
        await using var _ = services;
        await using var __ = slack;
        var history = services.GetRequiredService<IDeploymentHistory>();
        var start = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < 12; i++)
        {
            await history.AddAsync(Record("aaa/old", i, start.AddMinutes(i)), default);
        }

        await history.AddAsync(Record("zzz/new", 100, start.AddHours(5)), default);
        await history.AddAsync(Record("mmm/mid", 50, start.AddHours(2)), default);

        var recent = await history.RecentAsync(null, null, 3, default);

        Assert.Equal(["zzz/new", "mmm/mid", "aaa/old"], recent.Select(r => r.Repository));
        Assert.Equal(11, recent[2].StatusId);
    }

    private static StatusRecord Record(string repository, long statusId, DateTimeOffset at) => new()
    {
        Repository = repository, DeploymentId = 1, StatusId = statusId, State = "success", Environment = "production", CreatedAt = at,
    };
}
