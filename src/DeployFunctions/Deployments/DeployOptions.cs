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
    /// Repositories allowed to deploy, <c>owner/name</c> or <c>owner/*</c>, separated by <c>;</c> or <c>,</c>.
    /// Empty: every repository that sends deliveries. App setting <c>Deploy__Repositories</c>.
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
            if (EnvironmentOptions.Problem(environment, settings, settings.Provider ?? options.DefaultProvider) is { } problem)
            {
                failures.Add(problem);
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
