using DeployFunctions.Commands;
using DeployFunctions.Config;
using DeployFunctions.Deployments;
using DeployFunctions.Policy;
using DeployFunctions.Providers;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Tests.Config;

public sealed class RepositoryConfigTests
{
    private static DeployPolicy Policy(Action<DeployOptions>? deploy = null, Action<CommandOptions>? commands = null, Action<EnvironmentsOptions>? environments = null)
    {
        var options = new DeployOptions { BranchEnvironments = "main=production;release=staging", Repositories = "*" };
        deploy?.Invoke(options);
        var commandOptions = new CommandOptions();
        commands?.Invoke(commandOptions);
        var settings = new EnvironmentsOptions();
        settings.Environments["staging"] = new EnvironmentOptions { Provider = ProviderKinds.Simulated };
        environments?.Invoke(settings);
        return new DeployPolicy(Options.Create(options), Options.Create(settings), Options.Create(commandOptions));
    }

    [Fact]
    public void A_repositorys_own_environment_may_not_both_take_merges_and_an_order_nor_take_another_provider_nor_require_an_unknown_environment()
    {
        var policy = Policy(environments: e => e.Targets["shared"] = new EnvironmentOptions { Provider = ProviderKinds.Simulated, Repositories = "octo/*" });
        var config = Valid("environments:\n  web:\n    target: shared\n    branches: [main]\n    provider: http\n    requires: [nowhere]\n");

        var problems = policy.Widens(config, "main", "octo/web");

        Assert.Contains(problems, p => p.StartsWith("environments.web: 'requires' is enforced for commands, and a merge deploys its merge commit", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("environments.web.provider: 'http' is not the provider of target 'shared'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("environments.web.requires: 'nowhere' is not an environment of this repository", StringComparison.Ordinal));
        Assert.Empty(policy.Widens(Valid("environments:\n  web:\n    target: shared\n"), "main", "octo/web"));
        Assert.Single(policy.Widens(Valid("environments:\n  web:\n    target: shared\n"), "main", "other/web"));
    }

    [Theory]
    [InlineData("Production", "the app's settings define Production")]
    [InlineData("\u212Aube", "is named with ASCII letters, digits")] // a Kelvin sign: folds to 'k' in storage keys, not in comparisons
    [InlineData("with space", "is named with ASCII letters, digits")]
    public void A_repositorys_own_environment_has_a_plain_name_of_its_own(string name, string problem)
    {
        var policy = Policy(environments: e => e.Targets["shared"] = new EnvironmentOptions { Provider = ProviderKinds.Simulated, Repositories = "octo/*" });

        var problems = policy.Widens(Valid($"environments:\n  \"{name}\":\n    target: shared\n"), "main", "octo/web");

        Assert.Contains(problems, p => p.Contains(problem, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("https://{environment}.example.com", null)]
    [InlineData("https://{owner}.example.com/{repository}", null)]
    [InlineData("https://{env}.example.com", "environments.production.url: 'https://{env}.example.com' is not an https URL")]
    [InlineData("https://", "environments.production.url: 'https://' is not an https URL")]
    public void An_environment_url_must_be_https_with_only_the_known_placeholders(string url, string? problem)
    {
        var problems = Policy().Widens(Valid($"environments:\n  production:\n    url: \"{url}\"\n"), "main", "octo/web");

        if (problem is null)
        {
            Assert.Empty(problems);
        }
        else
        {
            Assert.Contains(problems, p => p.StartsWith(problem, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Only_a_repositorys_own_environment_on_a_github_actions_target_names_its_workflow()
    {
        var policy = Policy(environments: e => e.Targets["sim"] = new EnvironmentOptions { Provider = ProviderKinds.Simulated, Repositories = "octo/*" });

        var problems = policy.Widens(Valid("environments:\n  production:\n    workflow: mine.yml\n  own:\n    target: sim\n    workflow: mine.yml\n"), "main", "octo/web");

        Assert.Contains(problems, p => p.StartsWith("environments.production.workflow: only a repository's own environment", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("environments.own.workflow: target 'sim' does not run workflows", StringComparison.Ordinal));
    }

    [Fact]
    public void An_order_that_loops_or_that_merges_would_not_honour_is_refused()
    {
        var policy = Policy(environments: e => e.Targets["shared"] = new EnvironmentOptions { Provider = ProviderKinds.Simulated, Repositories = "octo/*" });

        var loop = policy.Widens(Valid("environments:\n  a:\n    target: shared\n    requires: [b]\n  b:\n    target: shared\n    requires: [a]\n"), "main", "octo/web");
        var merged = policy.Widens(Valid("environments:\n  production:\n    requires: [staging]\n"), "main", "octo/web");

        Assert.Contains(loop, p => p.StartsWith("environments.a.requires: it requires itself", StringComparison.Ordinal));
        Assert.Contains(merged, p => p.StartsWith("environments.production.requires: the order is enforced for a repository's own environments", StringComparison.Ordinal));
    }

    [Fact]
    public void A_deployment_whose_target_is_gone_never_falls_back_to_an_environment_of_the_same_name()
    {
        var settings = new EnvironmentsOptions();
        settings.Environments["web"] = new EnvironmentOptions { Provider = ProviderKinds.Http };
        settings.Targets["shared"] = new EnvironmentOptions { Provider = ProviderKinds.Simulated, Repositories = "*" };

        Assert.Equal(ProviderKinds.Simulated, settings.Find("web", "shared")?.Provider);
        Assert.Null(settings.Find("web", "withdrawn"));
        Assert.Equal(ProviderKinds.Http, settings.Find("web", null)?.Provider);
    }

    [Fact]
    public void A_confirmation_setting_naming_no_environment_confirms_nothing()
    {
        var rules = Policy(commands: c => c.DeploymentConfirmation = "prodution; staging").CommandRulesFor(null);

        Assert.Equal(["staging"], rules.ConfirmTargets);
    }

    [Fact]
    public void A_deployment_to_a_repositorys_own_environment_is_refused_before_it_runs_once_its_target_is_withdrawn()
    {
        var entry = new DeployFunctions.Ledger.LedgerEntry
        {
            Repository = "octo/web", Environment = "web", Sha = "abc", Ref = "abc", BaseBranch = "main", Source = DeployFunctions.Ledger.LedgerSources.Command,
            RequestedBy = "alice", Reason = "test", Order = DateTimeOffset.UnixEpoch, Target = "shared", Payload = "{}", DeliveryId = "d",
        };

        var granted = Policy(environments: e => e.Targets["shared"] = new EnvironmentOptions { Provider = ProviderKinds.Simulated, Repositories = "octo/*" });
        var withdrawn = Policy(environments: e => e.Targets["shared"] = new EnvironmentOptions { Provider = ProviderKinds.Simulated, Repositories = "octo/api" });

        Assert.Null(granted.Recheck(entry));
        Assert.Equal("target 'shared' is no longer granted to octo/web (Targets__shared__Repositories)", withdrawn.Recheck(entry));
        Assert.NotNull(Policy().Recheck(entry));
    }

    [Fact]
    public void A_check_both_named_and_ignored_still_counts()
    {
        var selection = Policy(commands: c => (c.Checks, c.IgnoredChecks) = ("build", "build; lint")).ChecksFor("production", null);

        Assert.NotNull(selection.Blocking([new DeployFunctions.GitHub.CommitCheck("build", "failure", false, null)]));
        Assert.Null(selection.Blocking([new DeployFunctions.GitHub.CommitCheck("lint", "failure", false, null),
            new DeployFunctions.GitHub.CommitCheck("build", "success", false, null)]));
    }

    [Theory]
    [InlineData(null, null, "", "all", "")]
    [InlineData("ci/build", null, "", "listed", "ci/build")]
    [InlineData("ci/build", "required", "", "required", "ci/build")]
    [InlineData("ci/build", "required", "environments:\n  production:\n    required_contexts: all\n", "all", "")]
    [InlineData("ci/build", "required", "commands:\n  checks: [scan]\n", "required", "ci/build,scan")]
    [InlineData(null, "lint,test", "commands:\n  checks: all\n", "all", "lint,test")]
    public void The_checks_a_command_counts_never_drop_below_the_apps(string? contexts, string? checks, string file, string mode, string names)
    {
        var config = file.Length == 0 ? null : Valid(file);

        var selection = Policy(deploy: d => d.RequiredContexts = contexts, commands: c => c.Checks = checks).ChecksFor("production", config);

        Assert.Equal(mode, selection.Mode);
        Assert.Equal(names, string.Join(',', selection.Names));
        // Whatever the file says, a failing check the app names (or, for 'all', any failing check) still blocks.
        var failing = new DeployFunctions.GitHub.CommitCheck(contexts ?? checks?.Split(',')[0] ?? "any", "failure", false, null);
        Assert.NotNull(selection.Blocking([failing]));
    }

    [Theory]
    [InlineData("strict", "warn", "outdated_mode: pr_base", "commands.outdated_mode")]
    [InlineData("strict", "warn", "outdated_mode: default_branch", "commands.outdated_mode")]
    [InlineData("strict", "warn", "update_branch: disabled", "commands.update_branch")]
    [InlineData("strict", "warn", "update_branch: force", "commands.update_branch")]
    [InlineData("pr_base", "disabled", "outdated_mode: strict", null)]
    [InlineData("pr_base", "disabled", "update_branch: warn", null)]
    [InlineData("pr_base", "force", "update_branch: force", null)]
    [InlineData("default_branch", "warn", "outdated_mode: pr_base", "commands.outdated_mode")]
    public void A_file_may_check_outdated_branches_only_as_strictly_as_the_app_or_more(string mode, string update, string line, string? problem)
    {
        var config = Valid($"commands:\n  {line}\n");

        var problems = Policy(commands: c => (c.OutdatedMode, c.UpdateBranch) = (mode, update)).Widens(config, "main");

        if (problem is null)
        {
            Assert.Empty(problems);
        }
        else
        {
            Assert.StartsWith(problem, Assert.Single(problems), StringComparison.Ordinal);
        }
    }

    private static RepositoryConfig Valid(string yaml) =>
        Assert.IsType<ConfigRead.Valid>(RepositoryConfigParser.Parse(yaml, "blob")).Config;

    [Fact]
    public void A_file_that_narrows_is_read_with_its_types()
    {
        var config = Valid("""
            environments:
              production:
                branches: [main]
                auto_deploy: false
                required_contexts: [ci/build]
                production_environment: true
                freezes:
                  - cron: "0 17 * * FRI"
                    duration: 64h
                    time_zone: Europe/Berlin
                    reason: weekend
            commands:
              minimum_permission: maintain
              require_approval: true
            """);

        var production = config.For("Production")!;
        Assert.Equal((false, true), (production.AutoDeploy, production.ProductionEnvironment));
        Assert.Equal(["ci/build"], production.ListedContexts);
        Assert.Equal("weekend", Assert.Single(production.Freezes).Reason);
        Assert.Empty(Policy().Widens(config, "main"));
    }

    [Theory]
    [InlineData("environments:\n  production:\n    auto_deploy: sometimes\n", "environments.production.auto_deploy")]
    [InlineData("environments:\n  production:\n    provider: kubernetes\n", "environments.production.provider")]
    [InlineData("deploy_everything: true\n", "deploy_everything")]
    [InlineData("environments:\n  production:\n    freezes:\n      - cron: \"0 17 * * 5\"\n        reason: no duration\n", "environments.production.freezes.0")]
    [InlineData("environments: [production\n", "is not valid YAML: line")]
    public void An_invalid_file_is_refused_with_errors_naming_where(string yaml, string where)
    {
        var invalid = Assert.IsType<ConfigRead.Invalid>(RepositoryConfigParser.Parse(yaml, "blob"));

        Assert.Contains(invalid.Errors, e => e.Contains(where, StringComparison.Ordinal));
    }

    [Fact]
    public void A_file_that_would_widen_the_app_settings_is_refused_for_each_way_it_does()
    {
        var config = Valid("""
            environments:
              qa: {}
              staging:
                provider: http
                branches: [main, develop]
              production:
                allow_force: true
            commands:
              minimum_permission: write
              require_approval: false
              allow_forks: true
            """);

        var problems = Policy(commands: c => c.MinimumPermission = PermissionLevels.Maintain).Widens(config, "main");

        Assert.Contains(problems, p => p.StartsWith("environments.qa: not an environment", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("'http' is not the provider the app's settings give staging", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("'main' does not deploy to staging", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("'develop' does not deploy to staging", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("environments.production.allow_force", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("commands.minimum_permission", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("commands.require_approval", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("commands.allow_forks", StringComparison.Ordinal));
        Assert.Equal(8, problems.Count);
    }

    [Fact]
    public void Narrowing_rules_combine_with_the_app_settings_never_loosening_them()
    {
        var config = Valid("""
            environments:
              production:
                required_contexts: [ci/e2e]
                allow_force: false
            commands:
              allowed_users: [alice]
              minimum_permission: admin
            """);
        var policy = Policy(d => (d.RequiredContexts, d.AllowForce) = ("ci/build", true), c => c.AllowedUsers = "alice;bob");

        Assert.Equal(["ci/build", "ci/e2e"], policy.RequiredContextsFor("production", config));
        Assert.Null(Policy().RequiredContextsFor("production", config)); // the app requires every context: a list cannot lower that
        Assert.False(policy.AllowsForce("production", config));
        Assert.True(policy.AllowsForce("staging", config));
        var rules = policy.CommandRulesFor(config);
        Assert.Equal(PermissionLevels.Admin, rules.MinimumPermission);
        Assert.Equal(2, rules.AllowLists.Count); // on both lists: alice only
    }

    [Fact]
    public void A_recurring_freeze_holds_from_its_start_for_its_duration_in_its_time_zone()
    {
        var weekend = new FreezeWindow { Cron = "0 17 * * FRI", Duration = "64h", TimeZone = "Europe/Berlin", Reason = "weekend" };
        // Friday 2026-11-27 17:00 in Berlin is 16:00 UTC.
        var friday = new DateTimeOffset(2026, 11, 27, 16, 0, 0, TimeSpan.Zero);

        Assert.Null(weekend.EndsAfter(friday.AddMinutes(-1)));
        Assert.Equal(friday.AddHours(64), weekend.EndsAfter(friday));
        Assert.Equal(friday.AddHours(64), weekend.EndsAfter(friday.AddHours(63)));
        Assert.Null(weekend.EndsAfter(friday.AddHours(64)));
    }

    [Fact]
    public void The_freeze_that_holds_is_the_one_ending_last_from_settings_or_file()
    {
        var now = DateTimeOffset.UtcNow;
        var freezes = new FreezeOptions();
        freezes.Windows.Add(new FreezeWindow { From = now.AddHours(-1), Until = now.AddHours(1), Reason = "release" });
        freezes.Windows.Add(new FreezeWindow { Environment = "staging", From = now.AddHours(-1), Until = now.AddHours(9), Reason = "staging only" });
        var policy = new DeployPolicy(Options.Create(new DeployOptions { Repositories = "*" }), freezes: Options.Create(freezes));
        var config = Valid($"environments:\n  production:\n    freezes:\n      - from: {now.AddHours(-1):O}\n        until: {now.AddHours(2):O}\n        reason: holidays\n");

        var freeze = policy.FreezeOn("production", config, now)!;

        Assert.Equal(("holidays", true), (freeze.Reason, freeze.FromRepository));
        Assert.Equal("release", policy.FreezeOn("production", null, now)!.Reason);
        Assert.Null(policy.FreezeOn("production", null, now.AddHours(3)));
    }

    [Fact]
    public void The_files_provider_must_match_the_environments_own_provider_not_the_default()
    {
        var policy = Policy(deploy => deploy.DefaultProvider = ProviderKinds.Simulated, environments: e =>
            e.Environments["staging"] = new EnvironmentOptions { Provider = ProviderKinds.Http, Url = new Uri("https://hooks.example.com/"), Secret = "a-hook-secret-of-some-length" });

        var simulated = policy.Widens(Valid("environments:\n  staging:\n    provider: simulated\n"), "main");
        var http = policy.Widens(Valid("environments:\n  staging:\n    provider: http\n"), "main");

        Assert.Contains("environments.staging.provider: 'simulated' is not the provider the app's settings give staging ('http')", simulated);
        Assert.Empty(http);
    }

    [Fact]
    public void Required_contexts_all_in_the_file_wins_over_the_operators_list()
    {
        var policy = Policy(deploy => deploy.RequiredContexts = "ci/build");
        var config = Valid("environments:\n  production:\n    required_contexts: all\n");

        Assert.Null(policy.RequiredContextsFor("production", config)); // every context, as GitHub checks when none is named
        Assert.Equal(["ci/build"], policy.RequiredContextsFor("production", null)!);
    }
}
