using System.Text;
using System.Text.Json.Nodes;
using DeployFunctions.Deployments;
using DeployFunctions.Ledger;
using DeployFunctions.Maintenance;
using DeployFunctions.Providers;
using DeployFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace DeployFunctions.Tests.Deployments;

/// <summary>An asynchronous deploy hook (202, then a signed report or a status URL), end to end on Azurite and the stand-in.</summary>
public sealed class AsyncHookTests(Azurite azurite) : IClassFixture<Azurite>
{
    private const string Secret = "the-production-hook-secret";

    private async Task<(Support.Pipeline Pipeline, StandInDeploymentView Deployment)> AcceptedAsync(
        RecordingServer hook, Action<Dictionary<string, string?>>? configure = null, Microsoft.Extensions.Logging.ILoggerProvider? logs = null)
    {
        hook.Status = 202;
        var pipeline = await Support.Pipeline.StartAsync(azurite, s =>
        {
            s["Environments:production:Provider"] = "http";
            s["Environments:production:Url"] = hook.Url.ToString();
            s["Environments:production:Secret"] = Secret;
            configure?.Invoke(s);
        }, logs: logs);
        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest());
        await Eventually.TrueAsync(async () => pipeline.Deployments().Count == 1 && await StateAsync(pipeline) == LedgerState.AwaitingReport,
            "the hook accepted it");
        return (pipeline, new StandInDeploymentView(pipeline));
    }

    private static async Task<LedgerState?> StateAsync(Support.Pipeline pipeline) =>
        (await pipeline.Services.GetRequiredService<IDeploymentLedger>().FindDeploymentAsync(
            "Codertocat/Hello-World", "production", pipeline.Deployments()[0].Id, CancellationToken.None))?.State;

    private static Task<ReportAnswer> ReportAsync(Support.Pipeline pipeline, string state, string secret = Secret)
    {
        var body = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["deployment_id"] = pipeline.Deployments()[0].Id, ["repository"] = "Codertocat/Hello-World", ["environment"] = "production",
            ["state"] = state, ["environment_url"] = "https://app.example.com/", ["description"] = "rolled out",
        }.ToJsonString());
        return pipeline.Services.GetRequiredService<DeploymentReports>().ApplyAsync(body, HttpDeployHookProvider.Sign(body, secret), CancellationToken.None);
    }

    private sealed class StandInDeploymentView(Support.Pipeline pipeline)
    {
        public List<string> States => pipeline.StatesOf(pipeline.Deployments()[0]);
    }

    [Fact]
    public async Task A_signed_report_finishes_the_deployment_once_and_a_forged_one_changes_nothing()
    {
        await using var hook = await RecordingServer.StartAsync();
        var (pipeline, deployment) = await AcceptedAsync(hook);
        await using var _ = pipeline;
        Assert.Equal(["in_progress"], deployment.States);

        var forged = await ReportAsync(pipeline, "success", secret: "not-the-secret-at-all");
        var applied = await ReportAsync(pipeline, "success");
        var repeated = await ReportAsync(pipeline, "success");
        var contradicting = await ReportAsync(pipeline, "failure");

        Assert.Equal((401, 200, 200, 409), (forged.Status, applied.Status, repeated.Status, contradicting.Status));
        Assert.Equal(("applied", "already applied", "late"), (applied.Outcome, repeated.Outcome, contradicting.Outcome));
        Assert.Equal(["in_progress", "success"], deployment.States);
        Assert.Equal("https://app.example.com/", pipeline.Deployments()[0].Statuses.Last().EnvironmentUrl);
        Assert.Equal(LedgerState.Succeeded, await StateAsync(pipeline));
    }

    [Fact]
    public async Task A_report_with_no_signature_at_all_is_refused()
    {
        await using var hook = await RecordingServer.StartAsync();
        var (pipeline, deployment) = await AcceptedAsync(hook);
        await using var _ = pipeline;
        var body = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["deployment_id"] = pipeline.Deployments()[0].Id, ["repository"] = "Codertocat/Hello-World", ["environment"] = "production", ["state"] = "success",
        }.ToJsonString());

        var unsigned = await pipeline.Services.GetRequiredService<DeploymentReports>().ApplyAsync(body, null, CancellationToken.None);

        Assert.Equal(401, unsigned.Status);
        Assert.Equal(["in_progress"], deployment.States);
    }

    [Fact]
    public async Task A_report_signed_in_the_documented_header_is_applied_through_the_http_function()
    {
        await using var hook = await RecordingServer.StartAsync();
        var (pipeline, deployment) = await AcceptedAsync(hook);
        await using var _ = pipeline;
        var body = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["deployment_id"] = pipeline.Deployments()[0].Id, ["repository"] = "Codertocat/Hello-World", ["environment"] = "production", ["state"] = "success",
        }.ToJsonString());
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Body = new MemoryStream(body);
        context.Request.ContentLength = body.Length;
        context.Request.Headers["X-DeployFunctions-Signature-256"] = HttpDeployHookProvider.Sign(body, Secret);

        var answer = Assert.IsType<DeployFunctions.Functions.SnakeCaseAnswer>(
            await pipeline.Services.GetRequiredService<DeployFunctions.Functions.DeploymentReportFunction>().Run(context.Request, CancellationToken.None));

        Assert.Equal(200, answer.StatusCode);
        Assert.Equal(["in_progress", "success"], deployment.States);
    }

    [Fact]
    public async Task The_next_deployment_to_the_environment_waits_until_the_hook_reports_the_one_before()
    {
        await using var hook = await RecordingServer.StartAsync();
        var (pipeline, _) = await AcceptedAsync(hook);
        await using var __ = pipeline;

        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest("4444444444444444444444444444444444444444"));
        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 2, "the second deployment created");
        await Task.Delay(1500); // several attempts: it waits, the hook is not called again
        Assert.Single(hook.Received);
        Assert.Empty(pipeline.StatesOf(pipeline.Deployments()[1]));

        Assert.Equal(200, (await ReportAsync(pipeline, "success")).Status);

        await Eventually.TrueAsync(() => hook.Received.Count == 2, "the second deployment handed to the hook");
        Assert.Equal(["in_progress"], pipeline.StatesOf(pipeline.Deployments()[1]));
    }

    [Fact]
    public async Task A_report_after_the_watchdog_gave_up_is_late()
    {
        await using var hook = await RecordingServer.StartAsync();
        var (pipeline, deployment) = await AcceptedAsync(hook, s =>
        {
            s["Environments:production:WatchdogMinutes"] = "0.005"; // 0.3 s: longer than the hook's own wait for its answer
            s["Environments:production:TimeoutSeconds"] = "0.2";
        });
        await using var _ = pipeline;
        await Task.Delay(500);
        await pipeline.Services.GetRequiredService<DeploymentWatchdog>().RunAsync(CancellationToken.None);

        var late = await ReportAsync(pipeline, "success");

        Assert.Equal((409, "late"), (late.Status, late.Outcome));
        Assert.Equal(["in_progress", "error"], deployment.States);
    }

    [Fact]
    public async Task A_status_url_on_the_hooks_host_is_polled_until_it_reports()
    {
        await using var hook = await RecordingServer.StartAsync();
        hook.Answer = new JsonObject { ["status_url"] = new Uri(hook.Url, "/hook/status/1").ToString() }.ToJsonString();
        var (pipeline, deployment) = await AcceptedAsync(hook);
        await using var _ = pipeline;
        await Eventually.TrueAsync(() => hook.Received.Count >= 2, "a first poll (still running)");
        Assert.Equal(["in_progress"], deployment.States);

        (hook.Status, hook.Answer) = (200, """{"state":"success","environment_url":"https://app.example.com/","log_url":"https://ci.example.com/9"}""");

        await Eventually.TrueAsync(() => deployment.States.Contains("success"), "the polled result reported");
        Assert.Equal(["in_progress", "success"], deployment.States);
        Assert.Equal("https://ci.example.com/9", pipeline.Deployments()[0].Statuses.Last().LogUrl);
        Assert.All(hook.Received.Skip(1), r => Assert.True(r.Headers.ContainsKey(HttpDeployHookProvider.SignatureHeader)));
    }

    [Fact]
    public async Task A_status_urls_query_which_may_carry_a_token_is_never_logged()
    {
        await using var hook = await RecordingServer.StartAsync();
        hook.Answer = new JsonObject { ["status_url"] = new Uri(hook.Url, "/hook/status/1?token=s3cr3t-status-token").ToString() }.ToJsonString();
        var logs = new CapturedLogs();
        var (pipeline, _) = await AcceptedAsync(hook, logs: logs);
        await using var __ = pipeline;
        await Eventually.TrueAsync(() => hook.Received.Count >= 3, "polled twice");

        Assert.Contains(logs.Lines, line => line.Contains("/hook/status/1", StringComparison.Ordinal)); // it is logged, without its query
        Assert.DoesNotContain(logs.Lines, line => line.Contains("s3cr3t-status-token", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_status_url_on_another_host_is_never_called()
    {
        await using var hook = await RecordingServer.StartAsync();
        hook.Answer = """{"status_url":"http://169.254.169.254/metadata"}""";
        var (pipeline, _) = await AcceptedAsync(hook);
        await using var __ = pipeline;

        var entry = await pipeline.Services.GetRequiredService<IDeploymentLedger>().FindDeploymentAsync(
            "Codertocat/Hello-World", "production", pipeline.Deployments()[0].Id, CancellationToken.None);

        Assert.Null(entry!.ReportUrl); // it waits for a signed report instead
    }
}
