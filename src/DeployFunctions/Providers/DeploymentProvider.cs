using Octokit;

namespace DeployFunctions.Providers;

/// <summary>One deployment to carry out, as GitHub announced it.</summary>
public sealed record DeploymentJob
{
    public required string Owner { get; init; }
    public required string Repository { get; init; }
    public required long DeploymentId { get; init; }
    public required string Sha { get; init; }
    public required string Ref { get; init; }
    public required string Environment { get; init; }
    public required string Task { get; init; }

    public const string Deploy = "deploy";
    public const string Destroy = "destroy";

    /// <summary>
    /// <see cref="Deploy"/>, or <see cref="Destroy"/>: a preview's pull request closed (or it went idle), and what it deployed is
    /// to be torn down (the hook's body says <c>"action": "destroy"</c>; a workflow gets the input <c>action: destroy</c>).
    /// </summary>
    public string Action { get; init; } = Deploy;

    /// <summary>A dry run (<c>.noop</c>): the provider reports what it would do and changes nothing.</summary>
    public bool Noop { get; init; }

    /// <summary>The deployment's payload as GitHub sent it (JSON), or null.</summary>
    public string? PayloadJson { get; init; }

    /// <summary>What followed <c>|</c> in the command (<c>.deploy to production | --canary 10</c>), or null.</summary>
    public string? Params => DeploymentParams.Read(PayloadJson);

    public required string DeliveryId { get; init; }

    /// <summary>
    /// The repository's default branch: a dispatched workflow runs from it (or the operator's <c>WorkflowRef</c>), never from a
    /// branch a pull request's author chose.
    /// </summary>
    public required string DefaultBranch { get; init; }

    public required EnvironmentOptions Settings { get; init; }
    public required IGitHubClient GitHub { get; init; }

    public string FullName => $"{Owner}/{Repository}";
}

/// <summary>How a provider's work ended.</summary>
public abstract record ProviderResult
{
    private ProviderResult()
    {
    }

    public sealed record Succeeded(Uri? EnvironmentUrl, Uri? LogUrl, string Description) : ProviderResult;

    /// <summary>The target said no: the deployment's status becomes <c>failure</c>.</summary>
    public sealed record Failed(Uri? LogUrl, string Description) : ProviderResult;

    /// <summary>The work could not be done (unreachable, timed out): the deployment's status becomes <c>error</c>.</summary>
    public sealed record Errored(string Description) : ProviderResult;

    /// <summary>
    /// A workflow run carries it out; the run's end (its <c>workflow_run</c> event, or the watchdog asking for the run) settles it.
    /// </summary>
    public sealed record HandedOff(string Description, long? RunId = null, Uri? LogUrl = null) : ProviderResult;

    /// <summary>An asynchronous hook took it (202) and reports later: by a signed callback, or at <paramref name="StatusUrl"/>.</summary>
    public sealed record Accepted(Uri? StatusUrl, Uri? LogUrl) : ProviderResult;
}

/// <summary>Carries out deployments for environments configured with its <see cref="Kind"/>.</summary>
public interface IDeploymentProvider
{
    string Kind { get; }

    /// <summary>
    /// True when running the same deployment id twice is harmless (the target recognises the id). A run that was
    /// interrupted is then run again; otherwise it is reported <c>error</c> and left for a person to redeploy.
    /// </summary>
    bool Idempotent { get; }

    /// <summary>The log URL known before the work starts (reported with <c>in_progress</c>), if any.</summary>
    Uri? LogUrlFor(DeploymentJob job);

    /// <summary>Does the work. Throws <see cref="DeploymentProviderException"/> when it could not be done (status <c>error</c>).</summary>
    Task<ProviderResult> DeployAsync(DeploymentJob job, CancellationToken cancellationToken);
}

/// <summary>A provider whose work may finish after it returns (<see cref="ProviderResult.Accepted"/> with a status URL).</summary>
public interface IPolledProvider
{
    /// <summary>How the work went, asked at its status URL; null while it is still going (or cannot be asked now).</summary>
    Task<ProviderResult?> PollAsync(DeploymentJob job, Uri statusUrl, CancellationToken cancellationToken);
}

/// <summary>
/// A provider that can find out what became of a run that started and recorded nothing (the process died, or its call got
/// no answer), instead of the run being reported interrupted or started twice.
/// </summary>
public interface IRecoverableProvider
{
    Task<Recovery> RecoverAsync(DeploymentJob job, DateTimeOffset startedAt, CancellationToken cancellationToken);
}

/// <summary>What became of a run whose outcome was not recorded.</summary>
public abstract record Recovery
{
    private Recovery()
    {
    }

    /// <summary>It had started: this is where it stands.</summary>
    public sealed record Found(ProviderResult Result) : Recovery;

    /// <summary>Nothing started: it may run.</summary>
    public sealed record NotStarted : Recovery;

    /// <summary>Too early to tell (a run may not be listed yet): ask again after <paramref name="Delay"/>.</summary>
    public sealed record Wait(TimeSpan Delay, string Reason) : Recovery;

    /// <summary>It cannot be told: reported as interrupted, for a person to redeploy, rather than risk running it twice.</summary>
    public sealed record Unknown(string Reason) : Recovery;
}

/// <summary>The provider could not do its work (unreachable, timed out): the deployment's status becomes <c>error</c>.</summary>
public sealed class DeploymentProviderException : Exception
{
    public DeploymentProviderException()
    {
    }

    public DeploymentProviderException(string message)
        : base(message)
    {
    }

    public DeploymentProviderException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
