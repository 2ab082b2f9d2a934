using System.Text;
using System.Text.Json.Nodes;
using DeployFunctions.Providers;
using DeployFunctions.Tests.Support;
using GitHubStandIn;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using Octokit;

namespace DeployFunctions.Tests.Deployments;

public sealed class ProviderTests
{
    private static DeploymentJob Job(EnvironmentOptions settings, IGitHubClient? github = null) => new()
    {
        Owner = "octo",
        Repository = "app",
        DeploymentId = 1001,
        Sha = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
        Ref = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
        Environment = "production",
        Task = "deploy",
        PayloadJson = """{"deploy_user":"Codertocat","created_by":"deployfunctions"}""",
        DeliveryId = "d-1",
        DefaultBranch = "main",
        Settings = settings,
        GitHub = github ?? Substitute.For<IGitHubClient>(),
    };

    [Fact]
    public async Task Http_hook_gets_the_deployment_signed_and_its_urls_are_used()
    {
        await using var hook = await RecordingServer.StartAsync();
        hook.Answer = """{"environment_url":"https://app.example.com/","log_url":"https://deploys.example.com/1001"}""";
        using var http = new HttpClient();

        var result = await new HttpDeployHookProvider(http).DeployAsync(Job(new EnvironmentOptions { Url = hook.Url, Secret = "hook-secret" }), default);

        var success = Assert.IsType<ProviderResult.Succeeded>(result);
        Assert.Equal("https://app.example.com/", success.EnvironmentUrl?.ToString());
        Assert.Equal("https://deploys.example.com/1001", success.LogUrl?.ToString());
        var (headers, body) = Assert.Single(hook.Received);
        Assert.Equal(HttpDeployHookProvider.Sign(Encoding.UTF8.GetBytes(body), "hook-secret"), headers[HttpDeployHookProvider.SignatureHeader].ToString());
        var json = JsonNode.Parse(body)!;
        Assert.Equal(1001, (long)json["deployment_id"]!);
        Assert.Equal("octo/app", (string?)json["repository"]);
        Assert.Equal("0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", (string?)json["sha"]);
        Assert.Equal("production", (string?)json["environment"]);
        Assert.Equal("deploy", (string?)json["task"]);
        Assert.Equal("Codertocat", (string?)json["payload"]!["deploy_user"]);
    }

    [Fact]
    public async Task Http_hook_answering_an_error_status_is_a_failure()
    {
        await using var hook = await RecordingServer.StartAsync();
        hook.Status = 500;
        using var http = new HttpClient();

        var result = await new HttpDeployHookProvider(http).DeployAsync(Job(new EnvironmentOptions { Url = hook.Url, Secret = "s" }), default);

        Assert.Equal("Deploy hook answered 500", Assert.IsType<ProviderResult.Failed>(result).Description);
    }

    [Fact]
    public async Task Http_hook_that_does_not_answer_in_time_is_an_error()
    {
        await using var hook = await RecordingServer.StartAsync();
        hook.Delay = TimeSpan.FromSeconds(10);
        using var http = new HttpClient();

        var exception = await Assert.ThrowsAsync<DeploymentProviderException>(() =>
            new HttpDeployHookProvider(http).DeployAsync(Job(new EnvironmentOptions { Url = hook.Url, Secret = "s", TimeoutSeconds = 0.5 }), default));

        Assert.Contains("did not answer within 0.5 s", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_hook_that_cannot_be_reached_is_an_error()
    {
        using var http = new HttpClient();

        await Assert.ThrowsAsync<DeploymentProviderException>(() =>
            new HttpDeployHookProvider(http).DeployAsync(Job(new EnvironmentOptions { Url = new Uri("http://127.0.0.1:9/hook"), Secret = "s" }), default));
    }

    [Fact]
    public async Task Simulated_provider_waits_then_succeeds()
    {
        var clock = new FakeTimeProvider();
        var deploying = new SimulatedProvider(clock).DeployAsync(
            Job(new EnvironmentOptions { DelaySeconds = 30, EnvironmentUrl = new Uri("https://app.example.com/") }), default);

        Assert.False(deploying.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(30));

        var success = Assert.IsType<ProviderResult.Succeeded>(await deploying);
        Assert.Equal("https://app.example.com/", success.EnvironmentUrl?.ToString());
    }

    [Fact]
    public async Task A_hook_that_redirects_is_not_followed_so_the_signed_request_never_reaches_another_host()
    {
        await using var elsewhere = await RecordingServer.StartAsync();
        await using var hook = await RecordingServer.StartAsync();
        (hook.Status, hook.AnswerHeaders["Location"]) = (307, elsewhere.Url.ToString());
        using var services = TestHost.Services("UseDevelopmentStorage=true");
        var provider = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<HttpDeployHookProvider>(services);

        var result = await provider.DeployAsync(Job(new EnvironmentOptions { Url = hook.Url, Secret = "a-hook-secret-of-some-length" }), default);

        Assert.Equal("Deploy hook answered 307", Assert.IsType<ProviderResult.Failed>(result).Description);
        Assert.Single(hook.Received);
        Assert.Empty(elsewhere.Received);
    }

    [Fact]
    public async Task GitHub_actions_provider_dispatches_the_workflow_with_the_deployment_as_inputs()
    {
        await using var gitHub = new StandInServer(new StandInOptions());
        await gitHub.StartAsync();
        var client = new GitHubClient(new ProductHeaderValue("test"), gitHub.BaseAddress) { Credentials = new Credentials("t") };
        var provider = new GitHubActionsProvider(TimeProvider.System, Microsoft.Extensions.Options.Options.Create(new DeployFunctions.GitHub.GitHubOptions()), NSubstitute.Substitute.For<DeployFunctions.GitHub.IGitHubClientFactory>());
        var job = Job(new EnvironmentOptions { Provider = ProviderKinds.GitHubActions, Workflow = "deploy.yml" }, client);

        var result = await provider.DeployAsync(job, default);

        var handed = Assert.IsType<ProviderResult.HandedOff>(result);
        var run = Assert.Single(gitHub.State.WorkflowRuns);
        Assert.Equal((run.Id, $"https://github.com/octo/app/actions/runs/{run.Id}"), (handed.RunId, handed.LogUrl?.ToString()));
        var dispatch = Assert.Single(gitHub.State.Requests);
        Assert.Equal("/repos/octo/app/actions/workflows/deploy.yml/dispatches", dispatch.Path);
        var body = JsonNode.Parse(dispatch.Body)!;
        Assert.Equal("main", (string?)body["ref"]);
        Assert.Equal("1001", (string?)body["inputs"]!["deployment_id"]);
        Assert.Equal("production", (string?)body["inputs"]!["environment"]);
        Assert.Equal("0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", (string?)body["inputs"]!["ref"]);
        Assert.True((bool)body["return_run_details"]!);
        Assert.Equal("http://127.0.0.1:" + gitHub.BaseAddress.Port + "/octo/app/actions/workflows/deploy.yml", provider.LogUrlFor(job)?.ToString());
    }
}
