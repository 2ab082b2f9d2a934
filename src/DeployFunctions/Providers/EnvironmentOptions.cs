namespace DeployFunctions.Providers;

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

    /// <summary>
    /// Targets only: the repositories granted this target (patterns as <c>Deploy__Repositories</c>; <c>owner/*</c> is that
    /// owner's). <c>Targets__&lt;name&gt;__Repositories</c>.
    /// </summary>
    public string? Repositories { get; set; }

    /// <summary>
    /// These settings for one deployment of a repository's own environment: its <paramref name="environmentUrl"/> reported with
    /// success, and its own <paramref name="workflow"/> dispatched, when the repository's file gave them (kept in the ledger).
    /// </summary>
    public EnvironmentOptions For(string? environmentUrl, string? workflow)
    {
        if (environmentUrl is null && workflow is null)
        {
            return this;
        }

        var copy = (EnvironmentOptions)MemberwiseClone();
        copy.EnvironmentUrl = environmentUrl is not null && Uri.TryCreate(environmentUrl, UriKind.Absolute, out var url) ? url : EnvironmentUrl;
        copy.Workflow = workflow ?? Workflow;
        return copy;
    }

    /// <summary>Why <paramref name="provider"/> cannot deploy <paramref name="environment"/> with these settings, or null.</summary>
    public static string? Problem(string environment, EnvironmentOptions settings, string provider, string section = EnvironmentsOptions.SectionName)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var prefix = $"{section}__{environment}__";
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

        if (SecretSetting.Problem($"{prefix}Secret", settings.Secret, SecretSetting.MinimumWebhookSecretLength) is { } secret)
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

/// <summary>
/// All environments' providers, keyed by environment name (case-insensitive), and the targets: the operator's catalogue of
/// where deployments can go, each granted to some repositories, which a repository's own environments point at.
/// <c>Environments__&lt;name&gt;__*</c> is a target of the same name granted to every allowed repository.
/// </summary>
public sealed class EnvironmentsOptions
{
    public const string SectionName = "Environments";
    public const string TargetsSectionName = "Targets";

    public Dictionary<string, EnvironmentOptions> Environments { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary><c>Targets__&lt;name&gt;__*</c>.</summary>
    public Dictionary<string, EnvironmentOptions> Targets { get; } = new(StringComparer.OrdinalIgnoreCase);

    public EnvironmentOptions? Find(string environment) =>
        Environments.TryGetValue(environment, out var options) ? options : null;

    /// <summary>
    /// The settings a deployment runs with: its target's (recorded in the ledger when it was approved), else its
    /// environment's. Null: not configured (the default provider applies), or its target is gone (never the environment's instead).
    /// </summary>
    public EnvironmentOptions? Find(string environment, string? target) =>
        target is null ? Find(environment) : Targets.TryGetValue(target, out var chosen) ? chosen : null;
}
