using System.Text.Json.Nodes;
using DeployFunctions.Commands;
using DeployFunctions.Config;
using DeployFunctions.Deployments;
using DeployFunctions.Providers;

namespace DeployFunctions.Policy;

/// <summary>Deploy freezes in app settings. Section <c>Freezes</c>: <c>Freezes__0__Environment</c>, <c>__Cron</c>, ...</summary>
public sealed class FreezeOptions
{
    public const string SectionName = "Freezes";

    public List<FreezeWindow> Windows { get; } = [];
}

/// <summary>Who may run commands in one repository: the app's rules narrowed by its file.</summary>
public sealed record CommandRules(
    string MinimumPermission, IReadOnlyList<IReadOnlyList<string>> AllowLists, bool RequireApproval, bool AllowForks, bool NoopSkipsReview = false,
    string OutdatedMode = OutdatedBranches.Strict, string UpdateBranch = OutdatedBranches.Warn, bool DisableNakedCommands = false,
    IReadOnlyList<string>? DraftTargets = null)
{
    /// <summary>The environments a draft pull request may deploy to (none by default).</summary>
    public IReadOnlyList<string> DraftPermittedTargets => DraftTargets ?? [];

    /// <summary><c>.deploy &lt;sha&gt;</c> is taken.</summary>
    public bool AllowShaDeployments { get; init; }

    /// <summary>Environments where a <c>.deploy</c> waits for the commenter's 👍.</summary>
    public IReadOnlyList<string> ConfirmTargets { get; init; } = [];

    public bool Confirms(string environment) => ConfirmTargets.Contains(environment, StringComparer.OrdinalIgnoreCase);
}

/// <summary>The repository's own file, held against the app's settings: it may narrow them, never widen them.</summary>
public sealed partial class DeployPolicy
{
    /// <summary>
    /// What in <paramref name="config"/> would widen the app's settings, for a repository whose default branch is
    /// <paramref name="defaultBranch"/>; empty when it only narrows them.
    /// </summary>
    public IReadOnlyList<string> Widens(RepositoryConfig config, string defaultBranch, string? repository = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var problems = new List<string>();
        foreach (var (name, environment) in config.Environments)
        {
            foreach (var required in environment.Requires ?? [])
            {
                if (KnownEnvironment(required) is null && config.For(required)?.Target is null)
                {
                    problems.Add($"environments.{name}.requires: '{required}' is not an environment of this repository");
                }
            }

            if (environment.Url is { } template && UrlProblem(name, template) is { } badUrl)
            {
                problems.Add(badUrl);
            }

            if (RequiresItself(config, name, name, []))
            {
                problems.Add($"environments.{name}.requires: it requires itself (through {string.Join(", ", environment.Requires!)}), so nothing could ever deploy there");
            }

            if (environment.Target is { } target)
            {
                problems.AddRange(TargetProblems(name, environment, target, repository));
                continue;
            }

            if (environment.Workflow is not null)
            {
                problems.Add($"environments.{name}.workflow: only a repository's own environment (with a target) names its workflow; {name}'s is the app's setting");
            }

            if (environment.Requires is { Count: > 0 } && KnownEnvironment(name) is not null)
            {
                problems.Add($"environments.{name}.requires: the order is enforced for a repository's own environments (with a target), which only commands deploy to; merges to {name} would not honour it");
            }

            if (KnownEnvironment(name) is not { } known)
            {
                problems.Add($"environments.{name}: not an environment the app's settings define ({string.Join(", ", Environments)})");
                continue;
            }

            var provider = ProviderOf(known);
            if (environment.Provider is { } asked && !string.Equals(asked, provider, StringComparison.Ordinal))
            {
                problems.Add($"environments.{name}.provider: '{asked}' is not the provider the app's settings give {known} ('{provider}')");
            }

            var allowed = OperatorBranches(known, defaultBranch);
            foreach (var branch in environment.Branches ?? [])
            {
                if (!allowed.Contains(branch, StringComparer.Ordinal))
                {
                    problems.Add($"environments.{name}.branches: '{branch}' does not deploy to {known} in the app's settings " +
                                 $"({(allowed.Count == 0 ? "no branch does" : string.Join(", ", allowed))}); a repository can only narrow them");
                }
            }

            if (environment.AllowForce == true && !options.AllowForce)
            {
                problems.Add($"environments.{name}.allow_force: the app's settings do not allow '.deploy --force' (Deploy__AllowForce)");
            }
        }

        if (config.Commands is { } rules)
        {
            if (rules.MinimumPermission is { } minimum && PermissionLevels.Rank(minimum) < PermissionLevels.Rank(commands.MinimumPermission))
            {
                problems.Add($"commands.minimum_permission: '{minimum}' is below the app's '{commands.MinimumPermission}'");
            }

            if (rules.RequireApproval == false && commands.RequireApproval)
            {
                problems.Add("commands.require_approval: the app's settings require an approving review (Commands__RequireApproval)");
            }

            if (rules.AllowForks == true && !commands.AllowForks)
            {
                problems.Add("commands.allow_forks: the app's settings do not allow deploying forks (Commands__AllowForks)");
            }

            // A file may only be stricter: strict is, and warn is (it refuses and writes nothing).
            if (rules.OutdatedMode is { } mode && mode != OutdatedBranches.Strict && mode != commands.OutdatedMode)
            {
                problems.Add($"commands.outdated_mode: '{mode}' checks less than the app's '{commands.OutdatedMode}' (Commands__OutdatedMode); 'strict' is allowed");
            }

            if (rules.DraftPermittedTargets?.Where(t => !commands.ParseDraftPermittedTargets().Contains(t, StringComparer.OrdinalIgnoreCase)).ToList() is { Count: > 0 } widened)
            {
                problems.Add($"commands.draft_permitted_targets: the app's settings do not let drafts deploy to {string.Join(", ", widened)} (Commands__DraftPermittedTargets)");
            }

            if (rules.DisableNakedCommands == false && commands.DisableNakedCommands)
            {
                problems.Add("commands.disable_naked_commands: the app's settings require every deploy to name its environment (Commands__DisableNakedCommands)");
            }

            if (rules.Checks is JsonValue checks && checks.TryGetValue<string>(out var asked) && asked == CheckSelection.Required &&
                commands.ParseChecks()?.Mode != CheckSelection.Required)
            {
                problems.Add("commands.checks: 'required' counts fewer checks than the app's settings (Commands__Checks); 'all' or a list of names is allowed");
            }

            if (rules.IgnoredChecks?.Where(c => !commands.ParseIgnoredChecks().Contains(c, StringComparer.Ordinal)).ToList() is { Count: > 0 } ignored)
            {
                problems.Add($"commands.ignored_checks: the app's settings do not ignore {string.Join(", ", ignored)} (Commands__IgnoredChecks)");
            }

            if (rules.AllowShaDeployments == true && !commands.AllowShaDeployments)
            {
                problems.Add("commands.allow_sha_deployments: the app's settings do not deploy commits by id (Commands__AllowShaDeployments)");
            }

            if (rules.UpdateBranch is { } update && update != OutdatedBranches.Warn && update != commands.UpdateBranch)
            {
                problems.Add($"commands.update_branch: '{update}' is not the app's '{commands.UpdateBranch}' (Commands__UpdateBranch); 'warn' is allowed");
            }
        }

        if (config.Previews is { } previews)
        {
            problems.AddRange(PreviewProblems(previews, repository));
        }

        return problems;
    }

    /// <summary>The provider the app's settings give an environment.</summary>
    /// <summary>True when following <c>requires</c> from <paramref name="from"/> leads back to <paramref name="start"/>.</summary>
    private static bool RequiresItself(RepositoryConfig config, string start, string from, HashSet<string> seen)
    {
        foreach (var next in config.For(from)?.Requires ?? [])
        {
            if (string.Equals(next, start, StringComparison.OrdinalIgnoreCase) ||
                (seen.Add(next.ToUpperInvariant()) && RequiresItself(config, start, next, seen)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A repository's own environment name: ASCII letters, digits, '.', '_' and '-', as storage keys and GitHub's environment names take them.</summary>
    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    private static partial System.Text.RegularExpressions.Regex OwnEnvironmentName();

    /// <summary>Why a repository's own environment <paramref name="name"/> on <paramref name="target"/> asks for more than the app grants.</summary>
    private IEnumerable<string> TargetProblems(string name, EnvironmentConfig environment, string target, string? repository)
    {
        if (!OwnEnvironmentName().IsMatch(name))
        {
            yield return $"environments.{name}: a repository's own environment is named with ASCII letters, digits, '.', '_' and '-' (at most 100)";
        }

        // Storage keys fold case with ToLowerInvariant: names that fold alike are one environment there.
        if (Environments.Any(known => string.Equals(known.ToLowerInvariant(), name.ToLowerInvariant(), StringComparison.Ordinal)))
        {
            yield return $"environments.{name}: the app's settings define {name}; a repository's own environment needs a name of its own";
        }

        if (!environmentSettings.Targets.TryGetValue(target, out var settings))
        {
            yield return $"environments.{name}.target: '{target}' is not a target of the app's settings (Targets__{target}__*)";
            yield break;
        }

        if (repository is not null && !Grants(settings, repository))
        {
            yield return $"environments.{name}.target: the app's settings do not grant '{target}' to {repository} (Targets__{target}__Repositories)";
        }

        if (environment.Provider is { } asked && !string.Equals(asked, settings.Provider ?? options.DefaultProvider, StringComparison.Ordinal))
        {
            yield return $"environments.{name}.provider: '{asked}' is not the provider of target '{target}' ('{settings.Provider ?? options.DefaultProvider}')";
        }

        if (environment.Branches is { Count: > 0 } && environment.Requires is { Count: > 0 })
        {
            yield return $"environments.{name}: 'requires' is enforced for commands, and a merge deploys its merge commit, which no other environment ran first: list 'branches' or 'requires', not both";
        }

        if (environment.AllowForce == true && !options.AllowForce)
        {
            yield return $"environments.{name}.allow_force: the app's settings do not allow '.deploy --force' (Deploy__AllowForce)";
        }

        if (environment.Workflow is not null && (settings.Provider ?? options.DefaultProvider) != ProviderKinds.GitHubActions)
        {
            yield return $"environments.{name}.workflow: target '{target}' does not run workflows (its provider is '{settings.Provider ?? options.DefaultProvider}')";
        }
    }

    private static bool Grants(EnvironmentOptions target, string repository) =>
        DeployOptions.Split(target.Repositories).Any(pattern => Matches(pattern, repository));

    /// <summary>
    /// The environments of <paramref name="repository"/>: the app's, and its file's own on a target the app grants it. A
    /// command may name only these.
    /// </summary>
    public IReadOnlyList<string> EnvironmentsFor(string repository, RepositoryConfig? config) =>
        [.. Environments.Concat(OwnEnvironments(repository, config).Select(e => e.Name))];

    /// <summary>The repository's own environments (declared with a target) whose target the app grants it.</summary>
    private IEnumerable<(string Name, string Target)> OwnEnvironments(string repository, RepositoryConfig? config) =>
        (config?.Environments ?? []).Where(e => e.Value.Target is { } target && KnownEnvironment(e.Key) is null &&
                                                 environmentSettings.Targets.TryGetValue(target, out var settings) && Grants(settings, repository))
            .Select(e => (e.Key, e.Value.Target!))
            .OrderBy(e => e.Key, StringComparer.Ordinal);

    /// <summary>The environment of this repository named <paramref name="name"/> (as spelled in the settings or file), or null.</summary>
    public string? KnownEnvironment(string name, string repository, RepositoryConfig? config) =>
        EnvironmentsFor(repository, config).FirstOrDefault(known => string.Equals(known, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The target a deployment to <paramref name="environment"/> of <paramref name="repository"/> uses; null: the environment's own settings.</summary>
    public string? TargetOf(string environment, string repository, RepositoryConfig? config) =>
        OwnEnvironments(repository, config).Where(e => string.Equals(e.Name, environment, StringComparison.OrdinalIgnoreCase))
            .Select(e => e.Target).FirstOrDefault();

    /// <summary>The environment's URL from the repository's file, filled in for <paramref name="repository"/>; null when it gives none.</summary>
    public static string? EnvironmentUrlFor(string environment, string repository, RepositoryConfig? config)
    {
        if (config?.For(environment)?.Url is not { } template)
        {
            return null;
        }

        var (owner, name) = GitHub.GitHubNames.Split(repository);
        return template.Replace("{environment}", Uri.EscapeDataString(environment), StringComparison.Ordinal)
            .Replace("{owner}", Uri.EscapeDataString(owner), StringComparison.Ordinal)
            .Replace("{repository}", Uri.EscapeDataString(name), StringComparison.Ordinal);
    }

    /// <summary>The repository's own workflow for <paramref name="environment"/> (on a github-actions target), or null.</summary>
    public string? WorkflowFor(string environment, string repository, RepositoryConfig? config) =>
        TargetOf(environment, repository, config) is not null ? config?.For(environment)?.Workflow : null;

    /// <summary>Why a <c>url</c> template cannot give an https URL, or null.</summary>
    private static string? UrlProblem(string environment, string template)
    {
        var filled = template.Replace("{environment}", "environment", StringComparison.Ordinal)
            .Replace("{owner}", "owner", StringComparison.Ordinal).Replace("{repository}", "repository", StringComparison.Ordinal);
        return filled.Contains('{', StringComparison.Ordinal) || !Uri.TryCreate(filled, UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttps
            ? $"environments.{environment}.url: '{template}' is not an https URL once {{environment}}, {{owner}} and {{repository}} are filled in"
            : null;
    }

    /// <summary>Whether any target is configured: only then can a repository's file move a merge to an environment of its own.</summary>
    public bool HasTargets => environmentSettings.Targets.Count > 0;

    /// <summary>The repository's own environment whose <c>branches</c> list <paramref name="baseBranch"/> (the first by name), or null.</summary>
    public (string Name, string Target)? OwnEnvironmentFor(string repository, string baseBranch, RepositoryConfig? config) =>
        OwnEnvironments(repository, config)
            .Where(e => config!.For(e.Name)?.Branches?.Contains(baseBranch, StringComparer.Ordinal) == true)
            .Select(e => ((string Name, string Target)?)e)
            .FirstOrDefault();

    /// <summary>The environments the same commit must have succeeded in before it deploys to <paramref name="environment"/>.</summary>
    public static IReadOnlyList<string> RequiredBefore(string environment, RepositoryConfig? config) => config?.For(environment)?.Requires ?? [];

    public string ProviderOf(string environment) => environmentSettings.Find(environment)?.Provider ?? options.DefaultProvider;

    /// <summary>The branches whose merges the app's settings deploy to <paramref name="environment"/>.</summary>
    private List<string> OperatorBranches(string environment, string defaultBranch) => branches.Count > 0
        ? [.. branches.Where(pair => string.Equals(pair.Value, environment, StringComparison.OrdinalIgnoreCase)).Select(pair => pair.Key)]
        : string.Equals(environment, options.DefaultEnvironment, StringComparison.OrdinalIgnoreCase) ? [defaultBranch] : [];

    /// <summary>The freeze holding <paramref name="environment"/> at <paramref name="at"/> that ends last, if any.</summary>
    public ActiveFreeze? FreezeOn(string environment, RepositoryConfig? config, DateTimeOffset at, string? target = null)
    {
        // An operator's freeze names an environment of the app or a target: a repository's own environment on that target is frozen too.
        var active = operatorFreezes
            .Where(f => string.IsNullOrWhiteSpace(f.Environment) || string.Equals(f.Environment, environment, StringComparison.OrdinalIgnoreCase) ||
                        (target is not null && string.Equals(f.Environment, target, StringComparison.OrdinalIgnoreCase)))
            .Select(f => (Window: f, Until: f.EndsAfter(at), Repository: false))
            .Concat((config?.For(environment)?.Freezes ?? []).Select(f => (Window: f, Until: f.EndsAfter(at), Repository: true)))
            .Where(f => f.Until is not null)
            .OrderByDescending(f => f.Until)
            .FirstOrDefault();
        return active.Window is null ? null : new ActiveFreeze(environment, active.Window.Reason ?? "deploy freeze", active.Until!.Value, active.Repository);
    }

    /// <summary>The next operator's freeze of <paramref name="environment"/> that starts after <paramref name="at"/>: its reason, start and end.</summary>
    public (string Reason, DateTimeOffset From, DateTimeOffset Until)? NextFreeze(string environment, DateTimeOffset at) => operatorFreezes
        .Where(f => string.IsNullOrWhiteSpace(f.Environment) || string.Equals(f.Environment, environment, StringComparison.OrdinalIgnoreCase))
        .Select(f => (Window: f, Start: f.StartsAfter(at)))
        .Where(f => f.Start is not null)
        .OrderBy(f => f.Start)
        .Select(f => ((string, DateTimeOffset, DateTimeOffset)?)(f.Window.Reason ?? "deploy freeze", f.Start!.Value, f.Start!.Value + f.Window.Length))
        .FirstOrDefault();

    /// <summary>True: a merge during a freeze waits for its end; false: it is skipped.</summary>
    public bool MergesWaitOutFreezes(string environment, RepositoryConfig? config) =>
        (config?.For(environment)?.FreezeMerges ?? options.FreezeMerges) != "skip";

    /// <summary>Whether an admin's <c>.deploy --force</c> may override a freeze here: the app allows it and the file does not forbid it.</summary>
    public bool AllowsForce(string environment, RepositoryConfig? config) =>
        options.AllowForce && config?.For(environment)?.AllowForce != false;

    /// <summary>Null: every context (GitHub's default); empty: none; else the list. The file's contexts add to the app's.</summary>
    public IReadOnlyList<string>? RequiredContextsFor(string environment, RepositoryConfig? config)
    {
        var app = options.ParseRequiredContexts();
        var file = config?.For(environment);
        if (app is null || file?.RequiresAllContexts == true)
        {
            return null;
        }

        return [.. app.Concat(file?.ListedContexts ?? []).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>What GitHub is told with a new deployment: the commit checks it must see green, and the environment's kind.</summary>
    public void Narrow(Octokit.NewDeployment deployment, string environment, RepositoryConfig? config)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        if (RequiredContextsFor(environment, config) is { } contexts)
        {
            deployment.RequiredContexts = [.. contexts];
        }

        if (config?.For(environment) is { } narrowed)
        {
            deployment.ProductionEnvironment = narrowed.ProductionEnvironment;
            deployment.TransientEnvironment = narrowed.TransientEnvironment;
        }
    }

    public CommandRules CommandRulesFor(RepositoryConfig? config)
    {
        var lists = new List<IReadOnlyList<string>>();
        if (commands.ParseAllowedUsers() is { Count: > 0 } app)
        {
            lists.Add(app);
        }

        if (config?.Commands?.AllowedUsers is { } file)
        {
            lists.Add(file);
        }

        var minimum = config?.Commands?.MinimumPermission is { } raised && PermissionLevels.Rank(raised) > PermissionLevels.Rank(commands.MinimumPermission)
            ? raised
            : commands.MinimumPermission;
        return new CommandRules(minimum, lists, commands.RequireApproval || config?.Commands?.RequireApproval == true,
            commands.AllowForks && config?.Commands?.AllowForks != false, commands.NoopSkipsReview,
            config?.Commands?.OutdatedMode ?? commands.OutdatedMode, config?.Commands?.UpdateBranch ?? commands.UpdateBranch,
            commands.DisableNakedCommands || config?.Commands?.DisableNakedCommands == true,
            [.. commands.ParseDraftPermittedTargets().Where(t => config?.Commands?.DraftPermittedTargets is not { } narrowed ||
                                                                   narrowed.Contains(t, StringComparer.OrdinalIgnoreCase))])
        {
            AllowShaDeployments = commands.AllowShaDeployments && config?.Commands?.AllowShaDeployments != false,
            ConfirmTargets = [.. commands.ParseDeploymentConfirmation().Concat(config?.Commands?.DeploymentConfirmation ?? [])
                .Select(t => KnownEnvironment(t) ?? (config?.For(t)?.Target is not null || environmentSettings.Targets.ContainsKey(t) ? t : null))
                .OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase)],
        };
    }

    /// <summary>
    /// Which checks must pass for a command deploying to <paramref name="environment"/>: <c>Commands__Checks</c> (unset: as
    /// <c>Deploy__RequiredContexts</c>), the contexts GitHub will require anyway, and what the repository's file adds.
    /// </summary>
    public CheckSelection ChecksFor(string environment, RepositoryConfig? config)
    {
        var contexts = RequiredContextsFor(environment, config);
        var (mode, names) = commands.ParseChecks() is { } chosen
            ? (chosen.Mode, chosen.Names.Concat(contexts ?? []))
            : contexts is null ? (CheckSelection.All, []) : (CheckSelection.Listed, contexts);
        if (config?.For(environment)?.RequiresAllContexts == true)
        {
            mode = CheckSelection.All; // the file's required_contexts: all asks for every check, never for fewer than the app's names
        }

        var file = config?.Commands?.Checks;
        if (file is JsonValue value && value.TryGetValue<string>(out var asked))
        {
            mode = asked == CheckSelection.All ? CheckSelection.All : mode;
        }
        else if (file is JsonArray listed)
        {
            names = names.Concat(listed.Select(n => (string?)n).OfType<string>());
        }

        var ignored = config?.Commands?.IgnoredChecks is { } narrowed
            ? commands.ParseIgnoredChecks().Where(c => narrowed.Contains(c, StringComparer.Ordinal))
            : commands.ParseIgnoredChecks();
        return new CheckSelection(mode, [.. names.Distinct(StringComparer.Ordinal)], [.. ignored]);
    }
}
