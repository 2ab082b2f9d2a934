using DeployFunctions.Commands;
using DeployFunctions.Config;
using DeployFunctions.Deployments;
using DeployFunctions.Policy;
using DeployFunctions.Providers;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Tests.Previews;

/// <summary>The repository's <c>previews:</c> section: only a granted target, never another environment's name, an https URL.</summary>
public sealed class PreviewPolicyTests
{
    private static DeployPolicy Policy()
    {
        var settings = new EnvironmentsOptions();
        settings.Environments["staging"] = new EnvironmentOptions { Provider = ProviderKinds.Simulated };
        settings.Targets["previews"] = new EnvironmentOptions { Provider = ProviderKinds.Simulated, Repositories = "octo/web" };
        settings.Targets["hooks"] = new EnvironmentOptions { Provider = ProviderKinds.Http, Url = new Uri("https://hooks.example.com/"), Secret = "s", Repositories = "octo/*" };
        return new DeployPolicy(Options.Create(new DeployOptions { Repositories = "*" }), Options.Create(settings), Options.Create(new CommandOptions()));
    }

    private static RepositoryConfig Valid(string yaml) =>
        Assert.IsType<ConfigRead.Valid>(RepositoryConfigParser.Parse(yaml, "sha")).Config;

    [Fact]
    public void A_granted_target_gives_the_pull_requests_environment_and_its_url()
    {
        var config = Valid("previews:\n  target: previews\n  url: https://{environment}.{repository}.example.com/{owner}\n");

        var plan = Policy().PreviewFor("octo/web", 42, config, out var why);

        Assert.Equal(new PreviewPlan("pr-42", "previews", "https://pr-42.web.example.com/octo", null), plan);
        Assert.Empty(why);
        Assert.Empty(Policy().Widens(config, "main", "octo/web"));
    }

    [Fact]
    public void The_name_pattern_is_the_files_and_must_hold_the_number()
    {
        Assert.Equal("preview-7-web", Policy().PreviewFor("octo/web", 7, Valid("previews:\n  target: previews\n  environment: preview-{number}-web\n"), out _)!.Environment);
        Assert.IsType<ConfigRead.Invalid>(RepositoryConfigParser.Parse("previews:\n  target: previews\n  environment: staging\n", "sha"));
        Assert.IsType<ConfigRead.Invalid>(RepositoryConfigParser.Parse("previews:\n  target: previews\n  environment: ../{number}/x\n", "sha"));
        Assert.IsType<ConfigRead.Invalid>(RepositoryConfigParser.Parse("previews:\n  environment: pr-{number}\n", "sha")); // no target
    }

    [Fact]
    public void A_target_not_granted_to_the_repository_widens_the_settings_and_gives_no_preview()
    {
        var config = Valid("previews:\n  target: previews\n");

        Assert.Null(Policy().PreviewFor("octo/api", 7, config, out var why));
        Assert.Contains("do not grant 'previews' to octo/api", why, StringComparison.Ordinal);
        Assert.Contains(Policy().Widens(config, "main", "octo/api"), p => p.StartsWith("previews.target:", StringComparison.Ordinal));
        Assert.Contains(Policy().Widens(Valid("previews:\n  target: nowhere\n"), "main", "octo/web"), p => p.Contains("'nowhere' is not a target", StringComparison.Ordinal));
    }

    [Fact]
    public void A_url_that_is_not_https_once_filled_or_a_workflow_on_a_hook_target_is_refused()
    {
        var policy = Policy();
        Assert.Contains(policy.Widens(Valid("previews:\n  target: hooks\n  url: https://{branch}.example.com\n"), "main", "octo/web"),
            p => p.StartsWith("previews.url:", StringComparison.Ordinal));
        Assert.IsType<ConfigRead.Invalid>(RepositoryConfigParser.Parse("previews:\n  target: hooks\n  url: http://pr-{number}.example.com\n", "sha"));
        Assert.Contains(policy.Widens(Valid("previews:\n  target: hooks\n  url: https://{number}:99999\n"), "main", "octo/web"),
            p => p.StartsWith("previews.url:", StringComparison.Ordinal));
        Assert.Contains(policy.Widens(Valid("previews:\n  target: hooks\n  workflow: preview.yml\n"), "main", "octo/web"),
            p => p.StartsWith("previews.workflow:", StringComparison.Ordinal));
    }

    [Fact]
    public void A_preview_never_takes_the_name_of_another_environment_of_the_repository()
    {
        var config = Valid("previews:\n  target: previews\n  environment: staging{number}\nenvironments:\n  pr-7:\n    target: previews\n");

        Assert.Null(Policy().PreviewFor("octo/web", 7, Valid("previews:\n  target: previews\nenvironments:\n  PR-7:\n    target: previews\n"), out var why));
        Assert.Contains("already an environment", why, StringComparison.Ordinal);
        Assert.NotNull(Policy().PreviewFor("octo/web", 8, Valid("previews:\n  target: previews\nenvironments:\n  pr-7:\n    target: previews\n"), out _));
        Assert.Equal("staging1", Policy().PreviewFor("octo/web", 1, config, out _)!.Environment);
    }

    [Fact]
    public void No_previews_section_no_preview()
    {
        Assert.Null(Policy().PreviewFor("octo/web", 7, Valid("environments: {}\n"), out var why));
        Assert.Contains("has no previews: section", why, StringComparison.Ordinal);
        Assert.Null(Policy().PreviewFor("octo/web", 7, null, out _));
    }

    [Theory]
    [InlineData(".preview", null)]
    [InlineData(".preview 0123456789abcdef0123456789ABCDEF01234567", "0123456789abcdef0123456789abcdef01234567")]
    public void The_preview_command_takes_nothing_or_a_full_commit_id(string line, string? sha)
    {
        var command = ChatCommand.Parse(line, ".", out var problem);

        Assert.Null(problem);
        Assert.Equal((CommandVerb.Preview, sha), (command!.Verb, command.Sha));
    }

    [Theory]
    [InlineData(".preview now")]
    [InlineData(".preview 0123456")]
    [InlineData(".preview to production")]
    public void The_preview_command_refuses_anything_else(string line)
    {
        Assert.Null(ChatCommand.Parse(line, ".", out var problem));
        Assert.Contains("preview takes nothing, or the head commit's full id", problem, StringComparison.Ordinal);
    }
}
