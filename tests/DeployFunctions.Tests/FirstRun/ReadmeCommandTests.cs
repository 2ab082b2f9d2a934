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
    public async Task The_try_a_command_walk_through_runs_as_written()
    {
        const string Tool = "dotnet tools/GitHubStandIn/bin/Debug/net10.0/GitHubStandIn.dll ";
        var section = Readme[Readme.IndexOf("### Try a command", StringComparison.Ordinal)..];
        var block = section[(section.IndexOf("```text\n", StringComparison.Ordinal) + 8)..section.IndexOf("\n```\n", StringComparison.Ordinal)];
        var lines = block.Split('\n');
        Assert.Equal(5, lines.Length);
        Assert.All(lines, line => Assert.StartsWith(Tool, line, StringComparison.Ordinal));
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        pipeline.GitHub.SeedDemo();

        var outputs = new List<string>();
        foreach (var line in lines)
        {
            var (exitCode, output) = await RunAsync([StandIn, .. Words(line[Tool.Length..]), "--standin", pipeline.GitHub.BaseAddress.ToString()]);
            Assert.True(exitCode == 0, $"{line}\n{output}");
            outputs.Add(output);
        }

        Assert.Contains("octocat opened Codertocat/Hello-World#2: feature -> master", outputs[0], StringComparison.Ordinal);
        Assert.Contains("reaction: confused", outputs[1], StringComparison.Ordinal);
        Assert.Contains("has no approving review of its head commit", outputs[1], StringComparison.Ordinal);
        Assert.Contains("hubot approved Codertocat/Hello-World#2", outputs[2], StringComparison.Ordinal);
        Assert.Contains("reaction: rocket", outputs[3], StringComparison.Ordinal);
        Assert.Contains("🚀 Deployed", outputs[3], StringComparison.Ordinal);
        Assert.Contains("- parameters: `--canary 10`", outputs[3], StringComparison.Ordinal);
        Assert.DoesNotContain("<!--", outputs[3], StringComparison.Ordinal);
        var deployment = Assert.Single(pipeline.Deployments());
        Assert.Equal("--canary 10", (string?)deployment.Payload!["params"]);
        Assert.Equal(4, outputs[4].Split('\n').Count(l => l.StartsWith("comment ", StringComparison.Ordinal))); // two commands, two replies
        Assert.Contains("by octocat [eyes confused]", outputs[4], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_confirmation_is_answered_with_the_react_verb_the_comment_verb_prints()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, s => s["Commands:DeploymentConfirmation"] = "production");
        pipeline.GitHub.SeedDemo();
        var url = pipeline.GitHub.BaseAddress.ToString();

        var (_, asked) = await RunAsync(StandIn, "comment", "1", ".deploy", "--as", "octocat", "--standin", url);
        var react = Regex.Match(asked, @"answer it: (react \d+ \+1 --as octocat)");
        Assert.True(react.Success, asked);
        var (reacted, _) = await RunAsync([StandIn, .. Words(react.Groups[1].Value), "--standin", url]);

        Assert.Equal(0, reacted);
        Assert.Contains("- environment: production", asked, StringComparison.Ordinal);
        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1 && pipeline.StatesOf(pipeline.Deployments()[0]).Contains("success"), "the confirmed deployment");
    }

    /// <summary>A command line's words, as a shell splits them (double quotes group).</summary>
    private static string[] Words(string line) =>
        [.. Regex.Matches(line, "\"([^\"]*)\"|(\\S+)").Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value)];

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
