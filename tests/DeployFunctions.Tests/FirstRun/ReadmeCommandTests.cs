using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DeployFunctions.Tests.Support;

namespace DeployFunctions.Tests.FirstRun;

/// <summary>The README's commands: run where this machine can, otherwise parsed and their files and options checked.</summary>
public sealed partial class ReadmeCommandTests(Azurite azurite) : IClassFixture<Azurite>
{
    private static readonly string Readme = Documentation.Readme;
    private static readonly string GettingStarted = Documentation.Page("docs/getting-started.md");
    private static readonly string AzureDoc = Documentation.Page("docs/azure.md");
    private static readonly string StandIn = Path.Combine(AppContext.BaseDirectory, "GitHubStandIn.dll");

    [Fact]
    public async Task The_merge_command_as_written_delivers_a_merged_pull_request_that_deploys()
    {
        Assert.Contains("dotnet tools/GitHubStandIn/bin/Debug/net10.0/GitHubStandIn.dll merge", Readme, StringComparison.Ordinal);
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);

        var (exitCode, output) = await RunAsync(StandIn, "merge", "--url", pipeline.Ingress.WebhookUrl.ToString(), "--secret", Deliveries.Secret);

        Assert.Equal(0, exitCode);
        Assert.Contains(": 202 {\"status\":\"queued\"", output, StringComparison.Ordinal);
        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1 && pipeline.StatesOf(pipeline.Deployments()[0]).Contains("success"), "a deployment");
    }

    [Fact]
    public async Task The_comment_command_as_written_tries_a_deploy_and_prints_the_apps_answer()
    {
        Assert.Contains("dotnet tools/GitHubStandIn/bin/Debug/net10.0/GitHubStandIn.dll comment --body \".deploy\"", Readme, StringComparison.Ordinal);
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        var demo = pipeline.GitHub.SeedDemo();

        var (exitCode, output) = await RunAsync(StandIn, "comment", "--body", ".deploy", "--standin", pipeline.GitHub.BaseAddress.ToString());

        Assert.True(exitCode == 0, output);
        Assert.Contains("reaction: eyes", output, StringComparison.Ordinal);
        Assert.Contains("reply:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("<!--", output, StringComparison.Ordinal);
        var deployment = Assert.Single(pipeline.Deployments());
        Assert.Equal(demo.HeadSha, deployment.Sha);
        Assert.Contains(deployment.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_comment_command_says_when_no_stand_in_is_running()
    {
        var (exitCode, output) = await RunAsync(StandIn, "comment", "--body", ".help", "--standin", "http://127.0.0.1:9/");

        Assert.Equal(1, exitCode);
        Assert.Contains("Is ./scripts/run-local.sh running?", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_send_command_takes_a_saved_delivery_file()
    {
        Assert.Contains("GitHubStandIn.dll send --file saved-delivery.txt", GettingStarted, StringComparison.Ordinal);
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, "X-GitHub-Event: ping\nX-GitHub-Delivery: 1\n\n" + WebhookExamples.Get("ping").ToJsonString());

        var (exitCode, output) = await RunAsync(StandIn, "send", "--file", file, "--url", pipeline.Ingress.WebhookUrl.ToString(), "--secret", Deliveries.Secret);

        File.Delete(file);
        Assert.Equal(0, exitCode);
        Assert.Contains("\"status\":\"pong\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sending_to_an_app_that_is_not_running_says_so_without_a_stack_trace()
    {
        var (exitCode, output) = await RunAsync(StandIn, "merge", "--url", "http://127.0.0.1:9/api/github/webhooks", "--secret", "s");

        Assert.Equal(1, exitCode);
        Assert.Contains("Is the app running", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    [Fact]
    public void The_az_deployment_command_names_real_template_parameters()
    {
        var command = AzDeployment().Match(AzureDoc);
        Assert.True(command.Success, "docs/azure.md has an az deployment sub create command");
        var bicep = File.ReadAllText(RepositoryRoot.Combine("infra", "main.bicep"));

        Assert.True(File.Exists(RepositoryRoot.Combine(command.Groups["template"].Value)));
        foreach (Match parameter in Parameter().Matches(command.Groups["parameters"].Value))
        {
            Assert.Contains($"param {parameter.Groups[1].Value} ", bicep, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_azd_variables_the_docs_name_are_mapped_in_the_parameters_file()
    {
        var parameters = File.ReadAllText(RepositoryRoot.Combine("infra", "main.parameters.json"));

        foreach (var variable in new[] { "GITHUB_WEBHOOK_SECRET", "GITHUB_TOKEN", "GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY" })
        {
            Assert.Contains(variable, AzureDoc, StringComparison.Ordinal);
            Assert.Contains("${" + variable, parameters, StringComparison.Ordinal);
        }

        var azure = File.ReadAllText(RepositoryRoot.Combine("azure.yaml"));
        Assert.Contains("project: ./src/DeployFunctions", azure, StringComparison.Ordinal);
        Assert.Contains("host: function", azure, StringComparison.Ordinal);
    }

    [Fact]
    public void The_history_endpoint_route_is_the_one_the_readme_gives()
    {
        var metadata = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "src", "DeployFunctions", "bin",
            typeof(ReadmeCommandTests).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyConfigurationAttribute), false)
                .Cast<System.Reflection.AssemblyConfigurationAttribute>().Single().Configuration, "net10.0", "functions.metadata")))!.AsArray();
        var trigger = metadata.Single(f => (string?)f!["name"] == "DeploymentHistory")!["bindings"]![0]!;

        Assert.Equal("deployments/history", (string?)trigger["route"]);
        Assert.Equal("Function", (string?)trigger["authLevel"]);
        Assert.Contains("/api/deployments/history?repository=", Readme, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }

    [GeneratedRegex(@"az deployment sub create [^\n]*--template-file (?<template>\S+) \\\n\s+--parameters (?<parameters>[^\n]+)")]
    private static partial Regex AzDeployment();

    [GeneratedRegex(@"(\w+)=")]
    private static partial Regex Parameter();
}
