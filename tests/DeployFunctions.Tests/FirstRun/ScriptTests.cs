using System.Management.Automation.Language;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DeployFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace DeployFunctions.Tests.FirstRun;

/// <summary>The scripts and the README a newcomer follows.</summary>
public sealed partial class ScriptTests
{
    [Fact]
    public void PowerShell_twin_parses_with_PowerShells_own_parser()
    {
        Parser.ParseFile(RepositoryRoot.Combine("scripts", "run-local.ps1"), out _, out var errors);

        Assert.Empty(errors.Select(e => $"{e.Extent.StartLineNumber}: {e.Message}"));
    }

    [Fact]
    public void Both_run_scripts_check_the_same_prerequisites()
    {
        var shell = File.ReadAllText(RepositoryRoot.Combine("scripts", "run-local.sh"));
        var powershell = File.ReadAllText(RepositoryRoot.Combine("scripts", "run-local.ps1"));

        foreach (var text in new[] { shell, powershell })
        {
            Assert.Contains("4.4.1", text, StringComparison.Ordinal);
            Assert.Contains("download/dotnet/8.0", text, StringComparison.Ordinal);
            Assert.Contains("Webhook__Secrets__0", text, StringComparison.Ordinal);
            Assert.Contains("func start", text, StringComparison.Ordinal);
            Assert.Contains(".azurite", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Readme_gives_exactly_two_set_up_commands_and_they_exist()
    {
        var readme = Documentation.Readme;
        var setup = readme[readme.IndexOf("## Set up", StringComparison.Ordinal)..];
        setup = setup[..setup.IndexOf("\n## ", 3, StringComparison.Ordinal)];

        var commands = ShellBlock().Matches(setup).Select(m => m.Groups[1].Value.Trim()).ToList();

        Assert.Equal(["./scripts/run-local.sh", "./scripts/test.sh"], commands);
        Assert.All(commands, c => Assert.True(File.Exists(RepositoryRoot.Combine(c[2..])), c));
    }

    [Fact]
    public void Ci_runs_the_readmes_test_command()
    {
        var ci = File.ReadAllText(RepositoryRoot.Combine(".ci", "run"));

        Assert.Contains("./scripts/test.sh", ci, StringComparison.Ordinal);
    }

    [Fact]
    public void The_repositorys_own_GitHub_workflow_runs_the_same_ci_entry_point()
    {
        var workflow = File.ReadAllText(RepositoryRoot.Combine(".github", "workflows", "ci.yml"));

        Assert.Contains("- run: .ci/run", workflow, StringComparison.Ordinal);
        Assert.Contains("global-json-file: global.json", workflow, StringComparison.Ordinal);
    }

    [Fact]
    public void The_changelog_has_the_version_the_build_sets()
    {
        Assert.Contains($"## [{RepositoryRoot.ProjectVersion()}] - ", Documentation.Page("CHANGELOG.md"), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_file_and_folder_the_documentation_names_exists()
    {
        foreach (var page in Documentation.Pages)
        {
            foreach (Match match in RepositoryPath().Matches(Documentation.Page(page)))
            {
                var path = match.Groups[1].Value.TrimEnd('/', '.', ',');
                if (path.Contains("/bin/", StringComparison.Ordinal))
                {
                    continue; // build output, made by the commands the README gives
                }

                Assert.True(File.Exists(RepositoryRoot.Combine(path)) || Directory.Exists(RepositoryRoot.Combine(path)), $"{page} names {path}");
            }
        }
    }

    [Fact]
    public void Every_setting_is_in_the_configuration_table_and_the_readmes_index()
    {
        var configuration = Documentation.Page("docs/configuration.md");
        var sample = JsonNode.Parse(File.ReadAllText(RepositoryRoot.Combine("local.settings.sample.json")))!["Values"]!.AsObject();

        foreach (var (key, _) in sample)
        {
            if (key != "FUNCTIONS_WORKER_RUNTIME")
            {
                Assert.Contains($"| `{key}` |", configuration, StringComparison.Ordinal);
                Assert.Contains($"`{key}`", Documentation.Readme, StringComparison.Ordinal);
            }
        }
    }

    [GeneratedRegex("```sh\\n([^\\n]+)\\n```")]
    private static partial Regex ShellBlock();

    [GeneratedRegex(@"`((?:src|tests|tools|scripts|infra|docs|bench)/[A-Za-z0-9_./-]+)`")]
    private static partial Regex RepositoryPath();

    [BashFact]
    public async Task The_run_script_names_a_port_that_is_taken_before_it_starts_anything()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 7071);
        try
        {
            taken.Start();
        }
        catch (System.Net.Sockets.SocketException)
        {
            // Something on this machine holds 7071 already: the script must name it all the same.
        }

        var start = new System.Diagnostics.ProcessStartInfo("bash", RepositoryRoot.Combine("scripts", "run-local.sh"))
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var script = System.Diagnostics.Process.Start(start)!;
        var error = await script.StandardError.ReadToEndAsync();
        await script.WaitForExitAsync();

        Assert.Equal(1, script.ExitCode);
        Assert.Contains("busy: port(s)", error, StringComparison.Ordinal);
        Assert.Contains("7071", error, StringComparison.Ordinal);
        Assert.False(File.Exists(RepositoryRoot.Combine(".azurite", "debug.log")) && File.GetLastWriteTimeUtc(RepositoryRoot.Combine(".azurite", "debug.log")) > DateTime.UtcNow.AddSeconds(-30),
            "Azurite was started although a port was taken");
    }

    [Fact]
    public void The_license_file_is_the_license_package_json_declares()
    {
        var declared = (string?)JsonNode.Parse(File.ReadAllText(RepositoryRoot.Combine("package.json")))!["license"];

        Assert.Equal("MIT", declared);
        Assert.StartsWith("MIT License", File.ReadAllText(RepositoryRoot.Combine("LICENSE")), StringComparison.Ordinal);
    }

    [BashFact]
    public async Task Without_Core_Tools_and_with_their_download_blocked_the_run_script_retries_npm_once_then_says_so()
    {
        var (exitCode, error, repository) = await RunWithFakeToolsAsync(runtimes: "Microsoft.NETCore.App 8.0.0 [/fake]");

        Assert.Equal(3, exitCode);
        Assert.Contains("missing: Azure Functions Core Tools", error, StringComparison.Ordinal);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(repository, "npm-calls")).Count(line => line.StartsWith("ci", StringComparison.Ordinal)));
        Assert.False(Directory.Exists(Path.Combine(repository, ".azurite")), "nothing is started without Core Tools");
    }

    [BashFact]
    public async Task Without_the_NET_8_runtime_the_run_script_installs_it_into_a_private_folder_or_says_why_it_cannot()
    {
        // No .NET 8 runtime, and Microsoft's install script cannot be downloaded (as on this machine).
        var (exitCode, error, repository) = await RunWithFakeToolsAsync(runtimes: "Microsoft.NETCore.App 10.0.0 [/fake]",
            ("curl", "echo \"$*\" >> \"$(dirname \"$0\")/../curl-calls\"; exit 22"));

        Assert.Equal(4, exitCode);
        Assert.Contains("the .NET 8 runtime", error, StringComparison.Ordinal);
        Assert.Contains("could not be installed from here", error, StringComparison.Ordinal);
        Assert.Contains("https://dot.net/v1/dotnet-install.sh", File.ReadAllText(Path.Combine(repository, "curl-calls")), StringComparison.Ordinal);
        Assert.True(Directory.Exists(Path.Combine(repository, ".dotnet")), "the private folder, not a global install");
    }

    /// <summary>
    /// run-local.sh in a repository of its own, with fake dotnet (the .NET 10 SDK and <paramref name="runtimes"/>), node
    /// and npm (which installs nothing, as where the Core Tools download is blocked), and no func anywhere.
    /// </summary>
    private static async Task<(int ExitCode, string Error, string Repository)> RunWithFakeToolsAsync(
        string runtimes, params (string Name, string Body)[] more)
    {
        var repository = Directory.CreateTempSubdirectory("run-local").FullName;
        Directory.CreateDirectory(Path.Combine(repository, "scripts"));
        File.Copy(RepositoryRoot.Combine("scripts", "run-local.sh"), Path.Combine(repository, "scripts", "run-local.sh"));
        var tools = Directory.CreateDirectory(Path.Combine(repository, "fake-bin")).FullName;
        Fake(tools, "dotnet", $$"""case "$1" in --list-sdks) echo "10.0.100 [/fake]";; --list-runtimes) echo "{{runtimes}}";; esac""");
        Fake(tools, "node", "echo 20");
        Fake(tools, "npm", $"echo \"$*\" >> '{Path.Combine(repository, "npm-calls")}'");
        foreach (var (name, body) in more)
        {
            Fake(tools, name, body);
        }

        var start = new System.Diagnostics.ProcessStartInfo("bash", Path.Combine(repository, "scripts", "run-local.sh"))
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            Environment = { ["PATH"] = $"{tools}:/usr/bin:/bin" },
        };
        using var script = System.Diagnostics.Process.Start(start)!;
        var error = await script.StandardError.ReadToEndAsync();
        await script.StandardOutput.ReadToEndAsync();
        await script.WaitForExitAsync();
        return (script.ExitCode, error, repository);
    }

    private static void Fake(string folder, string name, string body)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public static TheoryData<string> RunScripts => new() { "run-local.sh", "run-local.ps1" };

    [Theory]
    [MemberData(nameof(RunScripts))]
    public async Task A_delivery_to_the_real_worker_on_the_Azurite_a_run_script_starts_is_queued(string script)
    {
        // The script's own Azurite flags (not the test fixture's), with its data folder moved to a temporary one and
        // free ports added; then a delivery enqueued exactly as the ingress does it.
        var data = Directory.CreateTempSubdirectory("azurite-run-local").FullName;
        var flags = AzuriteFlags(File.ReadAllText(RepositoryRoot.Combine("scripts", script)))
            .Select(flag => flag.StartsWith(".azurite", StringComparison.Ordinal) ? Path.Combine(data, flag[".azurite".Length..].TrimStart('/')) : flag)
            .ToList();
        Assert.Contains("--location", flags);
        await using var azurite = new Azurite(flags);
        await azurite.InitializeAsync();
        var queue = "run-local-" + Guid.NewGuid().ToString("N")[..8];

        // The built app as a real worker under the host harness, on that Azurite, as func start would run it.
        await using var host = await FunctionsHostHarness.FunctionsHost.StartAsync(new FunctionsHostHarness.HostOptions
        {
            AppDirectory = Harness.RealWorkerTests.AppDirectory,
            WorkerAssembly = "DeployFunctions.dll",
            QueueTriggers = false,
            Settings = new Dictionary<string, string>
            {
                ["AzureWebJobsStorage"] = azurite.ConnectionString,
                ["Webhook__Secrets__0"] = Deliveries.Secret,
                ["GitHub__Token"] = "run-local-token",
                ["Deploy__Repositories"] = "*",
                ["PullRequestsQueue"] = queue,
            },
        });
        var body = WebhookExamples.Bytes(WebhookExamples.DerivedMergedPullRequest());
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(host.BaseAddress, "api/github/webhooks"))
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } },
        };
        request.Headers.Add("X-GitHub-Event", "pull_request");
        request.Headers.Add("X-GitHub-Delivery", Guid.NewGuid().ToString());
        request.Headers.Add("X-Hub-Signature-256", Deliveries.Sign(body));

        using var answer = await http.SendAsync(request);

        Assert.True(answer.StatusCode == System.Net.HttpStatusCode.Accepted, $"{answer.StatusCode}: {await answer.Content.ReadAsStringAsync()}");
        Assert.Equal(1, (await azurite.Queues().GetQueueClient(queue).GetPropertiesAsync()).Value.ApproximateMessagesCount);
    }

    /// <summary>The arguments a run script gives Azurite: the bash line, or the PowerShell -ArgumentList array.</summary>
    private static List<string> AzuriteFlags(string script)
    {
        var bash = Regex.Match(script, @"^node_modules/\.bin/azurite (?<args>[^&\n]+)&", RegexOptions.Multiline);
        if (bash.Success)
        {
            return [.. bash.Groups["args"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        }

        var powershell = Regex.Match(script, @"'node_modules/azurite/dist/src/azurite\.js',(?<args>[^)]*)\)");
        Assert.True(powershell.Success, "the script starts no Azurite that this test can read");
        return [.. Regex.Matches(powershell.Groups["args"].Value, "'([^']*)'").Select(m => m.Groups[1].Value)];
    }
}

/// <summary>A test that runs <c>run-local.sh</c>: skipped on Windows, where its PowerShell twin is the one users run.</summary>
public sealed class BashFactAttribute : FactAttribute
{
    public BashFactAttribute()
    {
        if (OperatingSystem.IsWindows())
        {
            Skip = "runs scripts/run-local.sh with bash; on Windows scripts/run-local.ps1 is checked by PowerShell's parser";
        }
    }
}
