using System.Management.Automation.Language;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DeployFunctions.Tests.Support;

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
        var readme = File.ReadAllText(RepositoryRoot.Combine("README.md"));
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
    public void Every_file_and_folder_the_readme_names_exists()
    {
        var readme = File.ReadAllText(RepositoryRoot.Combine("README.md"));

        foreach (Match match in RepositoryPath().Matches(readme))
        {
            var path = match.Groups[1].Value.TrimEnd('/', '.', ',');
            if (path.Contains("/bin/", StringComparison.Ordinal))
            {
                continue; // build output, made by the commands the README gives
            }

            Assert.True(File.Exists(RepositoryRoot.Combine(path)) || Directory.Exists(RepositoryRoot.Combine(path)), $"README names {path}");
        }
    }

    [Fact]
    public void Every_setting_is_in_the_readme_configuration_table()
    {
        var readme = File.ReadAllText(RepositoryRoot.Combine("README.md"));
        var sample = JsonNode.Parse(File.ReadAllText(RepositoryRoot.Combine("local.settings.sample.json")))!["Values"]!.AsObject();

        foreach (var (key, _) in sample)
        {
            if (key != "FUNCTIONS_WORKER_RUNTIME")
            {
                Assert.Contains($"| `{key}` |", readme, StringComparison.Ordinal);
            }
        }
    }

    [GeneratedRegex("```sh\\n([^\\n]+)\\n```")]
    private static partial Regex ShellBlock();

    [GeneratedRegex(@"`((?:src|tests|tools|scripts|infra|docs|bench)/[A-Za-z0-9_./-]+)`")]
    private static partial Regex RepositoryPath();
}
