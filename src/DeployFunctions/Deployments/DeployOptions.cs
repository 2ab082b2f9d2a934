using DeployFunctions.Providers;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Deployments;

/// <summary>When a merge deploys, and where. Section <c>Deploy</c>.</summary>
public sealed class DeployOptions
{
    public const string SectionName = "Deploy";

    /// <summary>
    /// Which base branches deploy to which environment: <c>main=production;release/v2=staging</c>. Empty: the
    /// repository's default branch deploys to <see cref="DefaultEnvironment"/>. App setting <c>Deploy__BranchEnvironments</c>.
    /// </summary>
    public string? BranchEnvironments { get; set; }

    /// <summary>Environment of the default branch when no map is set. App setting <c>Deploy__DefaultEnvironment</c>.</summary>
    public string DefaultEnvironment { get; set; } = "production";

    /// <summary>
    /// Repositories allowed to deploy, <c>owner/name</c>, <c>owner/*</c> (that owner's) or <c>*</c> (every repository the
    /// credentials reach, written out on purpose), separated by <c>;</c> or <c>,</c>. Required: empty, the app does not start.
    /// App setting <c>Deploy__Repositories</c>.
    /// </summary>
    public string? Repositories { get; set; }

    /// <summary>A pull request with this label does not deploy. Empty: no opt-out. App setting <c>Deploy__SkipLabel</c>.</summary>
    public string? SkipLabel { get; set; } = "no-deploy";

    /// <summary>
    /// Commit status contexts GitHub must see green before it creates a deployment: unset = all of them (GitHub's
    /// default); <c>none</c> = skip the check; or a list <c>ci/build;ci/test</c>. App setting <c>Deploy__RequiredContexts</c>.
    /// </summary>
    public string? RequiredContexts { get; set; }

    /// <summary>How long to keep waiting for pending or failing checks (409) before giving up. App setting <c>Deploy__WaitForChecksMinutes</c>.</summary>
    public double WaitForChecksMinutes { get; set; } = 60;

    /// <summary>How often to ask again while checks are pending. App setting <c>Deploy__ChecksRetrySeconds</c>.</summary>
    public double ChecksRetrySeconds { get; set; } = 60;

    /// <summary>How long a deployment waits for the one before it in the same environment. App setting <c>Deploy__LockWaitSeconds</c>.</summary>
    public double LockWaitSeconds { get; set; } = 15;

    /// <summary>
    /// Provider for environments with no <c>Environments__&lt;name&gt;__Provider</c>: <c>simulated</c>, <c>http</c> or
    /// <c>github-actions</c>. App setting <c>Deploy__DefaultProvider</c>.
    /// </summary>
    public string DefaultProvider { get; set; } = ProviderKinds.Simulated;

    /// <summary>A merge during a deploy freeze: <c>wait</c> until it ends, or <c>skip</c>. App setting <c>Deploy__FreezeMerges</c>.</summary>
    public string FreezeMerges { get; set; } = "wait";

    /// <summary>An admin may override a freeze with <c>.deploy --force</c>. App setting <c>Deploy__AllowForce</c>.</summary>
    public bool AllowForce { get; set; }

    public IReadOnlyDictionary<string, string> ParseBranchEnvironments() =>
        Split(BranchEnvironments)
            .Select(pair => pair.Split('=', 2, StringSplitOptions.TrimEntries))
            .Where(parts => parts.Length == 2 && parts[0].Length > 0 && parts[1].Length > 0)
            .ToDictionary(parts => parts[0], parts => parts[1], StringComparer.Ordinal);

    public IReadOnlyList<string> ParseRepositories() => [.. Split(Repositories)];

    /// <summary>Null: all contexts (omit the field). Empty: skip the check.</summary>
    public IReadOnlyList<string>? ParseRequiredContexts() =>
        RequiredContexts is null || string.IsNullOrWhiteSpace(RequiredContexts) ? null
        : string.Equals(RequiredContexts.Trim(), "none", StringComparison.OrdinalIgnoreCase) ? []
        : [.. Split(RequiredContexts)];

    internal static IEnumerable<string> Split(string? list) =>
        (list ?? "").Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

internal sealed class DeployOptionsValidator(IOptions<EnvironmentsOptions> environments) : IValidateOptions<DeployOptions>
{
    private readonly TimeSpan functionTimeout = HostJson.FunctionTimeout();

    /// <summary>
    /// Settings that contradict each other: a run the host would stop (a hook's wait past host.json's <c>functionTimeout</c>),
    /// or one the watchdog would call stuck while its provider is still within its own timeout.
    /// </summary>
    internal static string? Contradiction(
        string environment, EnvironmentOptions settings, string provider, TimeSpan functionTimeout, string section = EnvironmentsOptions.SectionName)
    {
        var prefix = $"{section}__{environment}__";
        var run = TimeSpan.FromSeconds(provider switch
        {
            ProviderKinds.Http => settings.TimeoutSeconds,
            ProviderKinds.Simulated => settings.DelaySeconds,
            _ => 0,
        });
        var margin = TimeSpan.FromMinutes(1);
        if (functionTimeout != Timeout.InfiniteTimeSpan && run + margin > functionTimeout)
        {
            return $"{prefix}{(provider == ProviderKinds.Http ? "TimeoutSeconds" : "DelaySeconds")} ({run.TotalSeconds} s) plus a minute is longer than " +
                   $"host.json's functionTimeout ({functionTimeout}): the host would stop the run first. Lower it, or raise functionTimeout.";
        }

        return run > TimeSpan.Zero && TimeSpan.FromMinutes(settings.WatchdogMinutes) <= run
            ? $"{prefix}WatchdogMinutes ({settings.WatchdogMinutes}) must be longer than the provider's own wait ({run.TotalSeconds} s), " +
              "or the watchdog would call runs still within it stuck."
            : null;
    }

    public ValidateOptionsResult Validate(string? name, DeployOptions options)
    {
        var failures = new List<string>();
        if (!ProviderKinds.All.Contains(options.DefaultProvider))
        {
            failures.Add($"Deploy__DefaultProvider must be one of {string.Join(", ", ProviderKinds.All)}.");
        }

        if (options.WaitForChecksMinutes < 0 || options.ChecksRetrySeconds <= 0 || options.LockWaitSeconds <= 0)
        {
            failures.Add("Deploy__WaitForChecksMinutes must be >= 0; Deploy__ChecksRetrySeconds and Deploy__LockWaitSeconds > 0.");
        }

        if (options.FreezeMerges is not ("wait" or "skip"))
        {
            failures.Add("Deploy__FreezeMerges must be wait or skip.");
        }

        var repositories = options.ParseRepositories();
        if (repositories.Count == 0)
        {
            failures.Add("Deploy__Repositories is empty, and nothing deploys until you name what may: owner/name, owner/* for an " +
                         "owner's repositories, or * for every repository the credentials reach (separated by ';').");
        }
        else if (repositories.FirstOrDefault(IsOddPattern) is { } odd)
        {
            failures.Add($"Deploy__Repositories entry '{odd}' is not owner/name, owner/* or *.");
        }

        if (string.IsNullOrWhiteSpace(options.DefaultEnvironment))
        {
            failures.Add("Deploy__DefaultEnvironment must name an environment, e.g. production.");
        }

        // Every environment a merge can deploy to, and every configured one, must have what its provider needs:
        // found here at start-up, not after a deployment was announced in_progress.
        var deployable = options.ParseBranchEnvironments().Values.Append(options.DefaultEnvironment)
            .Concat(environments.Value.Environments.Keys)
            .Where(name => !string.IsNullOrWhiteSpace(name))
            .Distinct(StringComparer.OrdinalIgnoreCase);
        foreach (var environment in deployable)
        {
            var settings = environments.Value.Find(environment) ?? new EnvironmentOptions();
            var provider = settings.Provider ?? options.DefaultProvider;
            if (EnvironmentOptions.Problem(environment, settings, provider) is { } problem)
            {
                failures.Add(problem);
            }
            else if (Contradiction(environment, settings, provider, functionTimeout) is { } contradiction)
            {
                failures.Add(contradiction);
            }
        }

        foreach (var (target, settings) in environments.Value.Targets)
        {
            var provider = settings.Provider ?? options.DefaultProvider;
            if (EnvironmentOptions.Problem(target, settings, provider, EnvironmentsOptions.TargetsSectionName) is { } problem)
            {
                failures.Add(problem);
            }
            else if (DeployOptions.Split(settings.Repositories).ToList() is var granted && (granted.Count == 0 || granted.Any(IsOddPattern)))
            {
                failures.Add($"Targets__{target}__Repositories must name the repositories granted the target: owner/name, owner/* or *, separated by ';'.");
            }
            else if (Contradiction(target, settings, provider, functionTimeout, EnvironmentsOptions.TargetsSectionName) is { } contradiction)
            {
                failures.Add(contradiction);
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>A repository pattern that is not owner/name, owner/* or *.</summary>
    private static bool IsOddPattern(string pattern) =>
        pattern != "*" && (pattern.Count(c => c == '/') != 1 || pattern.StartsWith('/') ||
                           (pattern.Contains('*', StringComparison.Ordinal) && !pattern.EndsWith("/*", StringComparison.Ordinal)));
}
