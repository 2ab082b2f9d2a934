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

/// <summary>The deployment providers; see <see cref="EnvironmentOptions.Provider"/>.</summary>
public static class ProviderKinds
{
    public const string Simulated = "simulated";
    public const string Http = "http";
    public const string GitHubActions = "github-actions";

    public static readonly IReadOnlyList<string> All = [Simulated, Http, GitHubActions];
}

/// <summary>One deployment environment's provider. Section <c>Environments:&lt;name&gt;</c>.</summary>
public sealed class EnvironmentOptions
{
    /// <summary><c>simulated</c>, <c>http</c> or <c>github-actions</c>. App setting <c>Environments__&lt;name&gt;__Provider</c>.</summary>
    public string? Provider { get; set; }

    /// <summary>http: the deploy hook URL. <c>Environments__&lt;name&gt;__Url</c>.</summary>
    public Uri? Url { get; set; }

    /// <summary>http: key of the HMAC-SHA256 signature sent in <c>X-DeployFunctions-Signature-256</c>. <c>Environments__&lt;name&gt;__Secret</c>.</summary>
    public string? Secret { get; set; }

    /// <summary>http: how long to wait for the hook. <c>Environments__&lt;name&gt;__TimeoutSeconds</c>.</summary>
    public double TimeoutSeconds { get; set; } = 120;

    /// <summary>github-actions: workflow file name or id, e.g. <c>deploy.yml</c>. <c>Environments__&lt;name&gt;__Workflow</c>.</summary>
    public string? Workflow { get; set; }

    /// <summary>github-actions: the ref the workflow runs from (default: the deployment's ref). <c>Environments__&lt;name&gt;__WorkflowRef</c>.</summary>
    public string? WorkflowRef { get; set; }

    /// <summary>simulated: the time the pretend deployment takes. <c>Environments__&lt;name&gt;__DelaySeconds</c>.</summary>
    public double DelaySeconds { get; set; } = 2;

    /// <summary>
    /// How long a deployment may stay queued or in progress before the watchdog reports it <c>error</c>.
    /// <c>Environments__&lt;name&gt;__WatchdogMinutes</c>.
    /// </summary>
    public double WatchdogMinutes { get; set; } = 60;

    /// <summary>The URL where the environment can be seen, reported with success. <c>Environments__&lt;name&gt;__EnvironmentUrl</c>.</summary>
    public Uri? EnvironmentUrl { get; set; }

    /// <summary>Why <paramref name="provider"/> cannot deploy <paramref name="environment"/> with these settings, or null.</summary>
    public static string? Problem(string environment, EnvironmentOptions settings, string provider)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var prefix = $"Environments__{environment}__";
        if (!ProviderKinds.All.Contains(provider))
        {
            return $"{prefix}Provider must be one of {string.Join(", ", ProviderKinds.All)}.";
        }

        if (provider == ProviderKinds.Http && (settings.Url is null || string.IsNullOrWhiteSpace(settings.Secret)))
        {
            return $"{prefix}Url and {prefix}Secret are required for the http provider.";
        }

        if (provider == ProviderKinds.GitHubActions && string.IsNullOrWhiteSpace(settings.Workflow))
        {
            return $"{prefix}Workflow (e.g. deploy.yml) is required for the github-actions provider.";
        }

        if (SecretSetting.Problem($"{prefix}Secret", settings.Secret) is { } secret)
        {
            return secret;
        }

        if (provider == ProviderKinds.Http && settings.Url is { } url && (!url.IsAbsoluteUri || url.Scheme is not ("https" or "http")))
        {
            return $"{prefix}Url must be an absolute http(s) URL (an unresolved Key Vault reference is not one).";
        }

        return settings.TimeoutSeconds is <= 0 or > 3600 ? $"{prefix}TimeoutSeconds must be above 0 and at most 3600." : null;
    }
}

/// <summary>All environments' providers, keyed by environment name (case-insensitive).</summary>
public sealed class EnvironmentsOptions
{
    public const string SectionName = "Environments";

    public Dictionary<string, EnvironmentOptions> Environments { get; } = new(StringComparer.OrdinalIgnoreCase);

    public EnvironmentOptions? Find(string environment) =>
        Environments.TryGetValue(environment, out var options) ? options : null;
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
