using Azure;

namespace DeployFunctions.Ledger;

/// <summary>Where a ledger deployment stands. The runner moves it forward; a result, once recorded, is final.</summary>
public enum LedgerState
{
    /// <summary>Approved; GitHub is being asked to create the deployment (its id is not known yet).</summary>
    Creating,

    /// <summary>GitHub created it; it has not run.</summary>
    Created,

    /// <summary>A provider started on it; no result was recorded (yet).</summary>
    Started,

    Succeeded,
    Failed,
    Errored,

    /// <summary>A workflow carries it out and reports the result itself.</summary>
    HandedOff,

    /// <summary>A newer commit had already run in the environment: marked inactive, never run.</summary>
    Superseded,

    /// <summary>A run started and never recorded a result (the process died): reported as error, not run again.</summary>
    Interrupted,

    /// <summary>The policy said no when it was about to run.</summary>
    Refused,

    /// <summary>
    /// The watchdog claimed it (no result in time): its <c>error</c> status is being posted. A run that died here is
    /// finished by the next watchdog run; then it is <see cref="Errored"/>.
    /// </summary>
    TimedOut,

    /// <summary>An asynchronous deploy hook accepted it (202) and reports the result later (a signed callback, or its status URL).</summary>
    AwaitingReport,
}

/// <summary>One deployment the app decided to create, and what became of it.</summary>
public sealed record LedgerEntry
{
    public required string Repository { get; init; }
    public required string Environment { get; init; }
    public required string Sha { get; init; }

    /// <summary>The ref sent to GitHub (the commit itself).</summary>
    public required string Ref { get; init; }

    /// <summary>The branch the commit landed on; a dispatched workflow runs from it.</summary>
    public required string BaseBranch { get; init; }

    /// <summary>What asked for it: <c>merge</c>, <c>command</c> or <c>preview</c> (see <see cref="LedgerSources"/>).</summary>
    public required string Source { get; init; }

    /// <summary>A command's comment id: its approval is keyed by it, so a redelivered command approves nothing new.</summary>
    public long? CommentId { get; init; }

    /// <summary>A command's comment, for replies and for people reading the deployment.</summary>
    public string? CommentUrl { get; init; }

    /// <summary>A command as written, e.g. <c>.deploy to staging</c>.</summary>
    public string? Command { get; init; }

    /// <summary>A dry run: the provider is told not to change anything; it never supersedes or is superseded.</summary>
    public bool Noop { get; init; }

    /// <summary>An admin's <c>.deploy --force</c>: deploy freezes do not hold it (locks still do).</summary>
    public bool Forced { get; init; }

    public long? PullRequest { get; init; }
    public required string RequestedBy { get; init; }

    /// <summary><c>.deploy &lt;stable branch&gt;</c>: it restores what ran before (the board counts what it replaced as a failed change).</summary>
    public bool Rollback { get; init; }

    /// <summary>
    /// The merged pull request says it reverts this one of the same repository (GitHub's "Reverts owner/name#n"); the
    /// board counts that pull request's recent deployments as failed changes. Written by whoever opened the revert: it
    /// decides no deployment, only a figure.
    /// </summary>
    public long? Reverts { get; init; }

    /// <summary>
    /// The operator's target it deploys with (<c>Targets__&lt;name&gt;__*</c>), chosen when it was approved from the
    /// repository's own environment; null: the environment's own settings (<c>Environments__&lt;name&gt;__*</c>).
    /// </summary>
    public string? Target { get; init; }

    /// <summary>The environment's URL from the repository's file (<c>url</c>), filled in when it was approved; null: the settings'.</summary>
    public string? EnvironmentUrl { get; init; }

    /// <summary>The repository's own workflow for a <c>github-actions</c> target (<c>workflow</c> in its file); null: the target's.</summary>
    public string? Workflow { get; init; }

    /// <summary>Why the policy said yes.</summary>
    public required string Reason { get; init; }

    /// <summary>
    /// Its place among deployments of the environment: when the merge landed (GitHub's <c>merged_at</c>); for a preview, when
    /// its head was pushed (the pull request's <c>updated_at</c> in that event) or a writer allowed it.
    /// </summary>
    public required DateTimeOffset Order { get; init; }

    /// <summary>The deployment payload the app sent (JSON); providers get this, never what an event claims.</summary>
    public required string Payload { get; init; }

    public required string DeliveryId { get; init; }
    public long? DeploymentId { get; init; }
    public LedgerState State { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public string? ResultDescription { get; init; }
    public string? ResultEnvironmentUrl { get; init; }
    public string? ResultLogUrl { get; init; }

    /// <summary>An asynchronous hook's status URL, polled until it reports a result.</summary>
    public string? ReportUrl { get; init; }

    /// <summary>
    /// When a create call was last sent to GitHub for this approval without a known answer: only then may a deployment found
    /// on GitHub (created by the app itself) be what that call made.
    /// </summary>
    public DateTimeOffset? CreateSentAt { get; init; }

    /// <summary>The workflow run a <c>github-actions</c> deployment was handed to (GitHub's answer to the dispatch).</summary>
    public long? RunId { get; init; }

    /// <summary>The final result is on GitHub as a deployment status (false: recorded, not yet posted).</summary>
    public bool Reported { get; init; }

    /// <summary>A legitimate wait the runner is holding a created deployment in (a lock, a freeze), and until when it may last.</summary>
    public string? HeldFor { get; init; }

    /// <summary>When <see cref="HeldFor"/> ends at the latest (a freeze's end, a lock wait's give-up time).</summary>
    public DateTimeOffset? HeldUntil { get; init; }

    /// <summary>The row's version: an update succeeds only if nobody wrote it since it was read.</summary>
    public ETag ETag { get; init; }

    /// <summary>When the row was last written (the table's own timestamp); not written by the app.</summary>
    public DateTimeOffset? LastChanged { get; init; }

    /// <summary>True once a provider has been started on it (or it has a result from running).</summary>
    public bool HasRun => State is LedgerState.Started or LedgerState.Succeeded or LedgerState.Failed or LedgerState.Errored
        or LedgerState.HandedOff or LedgerState.Interrupted or LedgerState.AwaitingReport;

    /// <summary>True when a result is recorded (what is left is to report it).</summary>
    public bool HasResult => State is LedgerState.Succeeded or LedgerState.Failed or LedgerState.Errored or LedgerState.HandedOff
        or LedgerState.Superseded or LedgerState.Interrupted or LedgerState.Refused or LedgerState.TimedOut;

    /// <summary>True when nothing more happens to it but the status that tells GitHub (a workflow's hand-off is not final).</summary>
    public bool IsFinal => State is LedgerState.Succeeded or LedgerState.Failed or LedgerState.Errored or LedgerState.Superseded
        or LedgerState.Interrupted or LedgerState.Refused;
}

/// <summary>Someone wrote the ledger row since it was read; read it again and decide again.</summary>
public sealed class LedgerConflictException : Exception
{
    public LedgerConflictException()
    {
    }

    public LedgerConflictException(string message)
        : base(message)
    {
    }

    public LedgerConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>What asked for a ledger deployment.</summary>
public static class LedgerSources
{
    public const string Merge = "merge";

    /// <summary>A pull request comment (<c>.deploy</c>, <c>.noop</c>).</summary>
    public const string Command = "command";

    /// <summary>A pull request's preview environment (a push, or a writer's <c>.preview</c> of a fork's head); task <c>deploy:preview</c>.</summary>
    public const string Preview = "preview";
}
